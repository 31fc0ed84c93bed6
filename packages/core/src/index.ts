/**
 * `@kmodel/core` for programs and tests (the coordinator side): Machine, plus the declarations
 * modules use (they only work inside a machine's CPUs).
 */
export * from './kernel.ts';
export {
  Machine, type BootOptions, type ChaosOptions, type ControlledOptions, type RunEnd, type ModuleInfo, type ShutdownResult,
} from './machine/machine.ts';
export { InsmodError, MachineError } from './machine/errors.ts';
export { kernel_logger, dmesg_line, dmesg_time, log_record, type LogFormat, type LoggerOptions } from './machine/logger.ts';
export type { LogRecord, ReportKind } from './printk/logbuf.ts';
export type { ThreadInfo, CpuStat, LockStat } from './machine/proc-files.ts';
export { errname } from './arch/errno.ts';
