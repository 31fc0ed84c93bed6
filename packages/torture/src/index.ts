/**
 * `@kmodel/torture` for the program that runs a test: locktorture's parameters and the wrapper
 * module that carries them. The module body itself (`@kmodel/torture/locktorture`) runs inside
 * the machine and uses only the public personalities, as any module does.
 */
export { LOCK_TYPES, READER_TYPES, module_parms_line, type LockType, type TortureParams } from './params.ts';
export { wrapper_source, write_wrapper } from './wrapper.ts';
