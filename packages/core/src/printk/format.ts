/**
 * printf-style formatting with the kernel's conversions. fast-printf does the formatting; this
 * adapts C's length modifiers (%lu, %llx, %zu), %c of a number and %p, which it lacks.
 */
import { printf } from 'fast-printf';

const CONV = /%([-+ 0#]*)(\d+|\*)?(?:\.(\d+|\*))?(hh|h|ll|l|L|q|j|z|Z|t)?([diouxXeEfFgGcsp%])/g;
const cache = new Map<string, { fmt: string; convs: string }>();

export function vsprintf(fmt: string, args: readonly unknown[]): string {
  if (fmt.indexOf('%') < 0) return fmt;
  let c = cache.get(fmt);
  if (!c) {
    let convs = '';
    const out = fmt.replace(CONV, (_m, flags: string, width = '', prec: string | undefined, _len, conv: string) => {
      if (conv === '%') return '%%';
      if (width === '*') convs += '*';
      if (prec === '*') convs += '*';
      convs += conv;
      const p = prec !== undefined ? `.${prec}` : '';
      if (conv === 'p' || conv === 'c') return `%${flags}${width}${p}s`;
      if (conv === 'u') return `%${flags}${width}${p}d`;
      return `%${flags}${width}${p}${conv}`;
    });
    c = { fmt: out, convs };
    if (cache.size < 1024) cache.set(fmt, c);
  }
  const a = args.slice(0, c.convs.length).map((v, i) => adapt(c!.convs[i], v));
  try {
    return printf(c.fmt, ...a);
  } catch {
    return `${fmt} [bad format arguments: ${args.map(String).join(', ')}]`;
  }
}

function adapt(conv: string, v: unknown): unknown {
  switch (conv) {
    case 'c':
      return typeof v === 'number' ? String.fromCharCode(v) : String(v);
    case 'p':
      return typeof v === 'number' ? `0x${v.toString(16).padStart(8, '0')}` : String(v);
    case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'number' || typeof v === 'string') return v;
      return Number(v);
    case 's':
      return v === null ? '(null)' : String(v);
    default:
      return v;
  }
}
