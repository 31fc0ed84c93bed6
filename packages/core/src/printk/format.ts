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
      const p = prec !== undefined ? `.${prec}` : '';
      if (flags.includes('#') && (conv === 'x' || conv === 'X' || conv === 'o')) {
        convs += `#${conv}`; // the alternate form: 0x / 0X / 0 prefix, done here
        return `%${flags.replace('#', '').replace('0', '')}${width}s`;
      }
      convs += conv;
      if (conv === 'p' || conv === 'c') return `%${flags}${width}${p}s`;
      if (conv === 'u') return `%${flags}${width}${p}d`;
      return `%${flags}${width}${p}${conv}`;
    });
    c = { fmt: out, convs };
    if (cache.size < 1024) cache.set(fmt, c);
  }
  const convs = c.convs.match(/#?./g) ?? [];
  const a = args.slice(0, convs.length).map((v, i) => adapt(convs[i], v));
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
    case '#x': case '#X': case '#o': {
      const n = Number(v);
      if (n === 0) return '0';
      if (conv === '#o') return `0${(n >>> 0).toString(8)}`;
      const h = (n >>> 0).toString(16);
      return conv === '#x' ? `0x${h}` : `0X${h.toUpperCase()}`;
    }
    default:
      return v;
  }
}
