/**
 * A value a module passed where the kernel expected something else, described as what it is
 * (`42 (a number)`, `null`, `an object (Foo)`) for misuse reports: never `[object Object]`.
 */
import { IS_ERR, errname } from '../arch/errno.ts';

const MAX = 40;

function quote(s: string): string {
  return s.length > MAX ? `'${s.slice(0, MAX)}…'` : `'${s}'`;
}

export function describe_value(v: unknown): string {
  switch (typeof v) {
    case 'undefined': return 'undefined';
    case 'number': return IS_ERR(v) ? `ERR_PTR(${errname(v)})` : `${v} (a number)`;
    case 'string': return `${quote(v)} (a string)`;
    case 'boolean': return `${v} (a boolean)`;
    case 'bigint': return `${v}n (a bigint)`;
    case 'symbol': return `${String(v)} (a symbol)`;
    case 'function': return v.name ? `a function (${v.name})` : 'a function';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name && name !== 'Object' ? `an object (${name})` : 'an object';
}
