/**
 * vsprintf with the kernel's conversions (lib/vsprintf.c): flags `-+ 0#`, width and precision
 * (numbers or `*`), length modifiers hh h l ll z t j L q, and d i u x X o c s p e f g E G %,
 * with the %p extensions of pointer() below. Integers follow C: %u and %x of a negative int print its
 * two's complement (32 bits; 64 with l/ll/z, as `long` is 64-bit in the kernel).
 * The parsed form of each format string is cached: printk formats are few and hot.
 *
 * Bad arguments never throw: a width or precision out of Linux's range is clamped to it (and
 * reported through `warn`, as lib/vsprintf.c's WARN_ONCE), one that is not a number is ignored,
 * and a value that cannot be converted prints as what it is.
 */
import { describe_value } from './describe.ts';
import { IS_ERR, errname } from '../arch/errno.ts';

/** lib/vsprintf.c: the largest field width and precision a conversion takes. */
export const FIELD_WIDTH_MAX = (1 << 23) - 1;
export const PRECISION_MAX = (1 << 15) - 1;
/** Number#toFixed/toExponential/toPrecision take at most 100 digits. */
const FLOAT_PRECISION_MAX = 100;

/** Told about an argument that had to be corrected ("field width 1000000000 too large"). */
export type FormatWarn = (what: string) => void;
type Spec = { lit: string } | {
  raw: string;
  flags: string; width: number | '*' | null; prec: number | '*' | null; len: string; conv: string;
  /** %p only: the extension, every letter and digit after the p (lib/vsprintf.c skips them all). */
  ext: string;
};

const SPEC = /%([-+ 0#]*)(\d+|\*)?(?:\.(\d*|\*))?(hh|h|ll|l|L|q|j|z|Z|t)?([diouxXeEfFgGcs%]|p([A-Za-z0-9]*))/g;
const cache = new Map<string, Spec[]>();

function parse(fmt: string): Spec[] {
  const out: Spec[] = [];
  let at = 0;
  for (const m of fmt.matchAll(SPEC)) {
    if (m.index! > at) out.push({ lit: fmt.slice(at, m.index) });
    at = m.index! + m[0].length;
    if (m[5] === '%') {
      out.push({ lit: '%' });
      continue;
    }
    const num = (v: string | undefined): number | '*' | null => (v === undefined ? null : v === '*' ? '*' : Number(v || 0));
    const conv = m[5][0];
    out.push({ raw: m[0], flags: m[1], width: num(m[2]), prec: num(m[3]), len: m[4] ?? '', conv, ext: m[6] ?? '' });
  }
  if (at < fmt.length) out.push({ lit: fmt.slice(at) });
  return out;
}

/** Number(v), or NaN for a value that has none (a symbol, an object whose valueOf throws). */
function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  try {
    return Number(v);
  } catch {
    return NaN;
  }
}

function toStr(v: unknown): string {
  try {
    return String(v);
  } catch {
    return describe_value(v);
  }
}

function toBig(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  const n = toNumber(v);
  return Number.isFinite(n) ? BigInt(Math.trunc(n)) : 0n;
}

/** A `*` width (sign: left-justify) or precision argument, clamped like lib/vsprintf.c. */
function starArg(v: unknown, what: 'field width' | 'precision', max: number, min: number, warn?: FormatWarn): number | null {
  const n = toNumber(v);
  if (!Number.isFinite(n)) {
    warn?.(`${what} ${typeof v === 'number' ? v : describe_value(v)} is not a number`);
    return null;
  }
  const i = Math.trunc(n);
  if (i > max || i < min) {
    warn?.(`${what} ${i} too large`);
    return Math.min(max, Math.max(min, i));
  }
  return i;
}

function integer(v: unknown, conv: string, len: string, flags: string, prec: number | null): string {
  const wide = len === 'l' || len === 'll' || len === 'q' || len === 'j' || len === 'z' || len === 'Z' || len === 't' || len === 'L';
  const bits = wide ? 64 : len === 'h' ? 16 : len === 'hh' ? 8 : 32;
  let n = toBig(v);
  let sign = '';
  let digits: string;
  if (conv === 'd' || conv === 'i') {
    n = BigInt.asIntN(bits, n);
    if (n < 0n) {
      sign = '-';
      n = -n;
    } else if (flags.includes('+')) sign = '+';
    else if (flags.includes(' ')) sign = ' ';
    digits = n.toString(10);
  } else {
    n = BigInt.asUintN(bits, n);
    const radix = conv === 'o' ? 8 : conv === 'u' ? 10 : 16;
    digits = n.toString(radix);
    if (conv === 'X') digits = digits.toUpperCase();
    if (flags.includes('#') && n !== 0n) {
      if (conv === 'x') sign = '0x';
      else if (conv === 'X') sign = '0X';
      else if (conv === 'o') digits = `0${digits}`;
    }
  }
  if (prec !== null) digits = prec === 0 && n === 0n ? '' : digits.padStart(prec, '0');
  return sign + digits;
}

/**
 * `n` with `p` digits after the point, as glibc prints it: an exact tie (the double's decimal
 * expansion ends in a 5 just past the last digit kept) rounds to even; Number#toFixed rounds it up.
 */
function fixed(n: number, p: number): string {
  const s = n.toFixed(p);
  if (p >= FLOAT_PRECISION_MAX || !Number.isFinite(n)) return s;
  const longer = n.toFixed(p + 1);
  if (!longer.endsWith('5') || Number(longer) !== n) return s;
  const kept = longer.slice(0, -1).replace(/\.$/, '');
  return Number(kept.at(-1)) % 2 === 0 ? kept : s;
}

const exponent = (s: string) => s.replace(/e([+-])(\d)$/, 'e$10$2');

/** %g: %e or %f style by the exponent, as C chooses, trailing zeros dropped unless '#'. */
function general(n: number, p: number, flags: string): string {
  const P = p === 0 ? 1 : p;
  if (!Number.isFinite(n)) return String(n);
  const X = n === 0 ? 0 : Number(n.toExponential(P - 1).split('e')[1]);
  let s = P > X && X >= -4 ? fixed(n, P - 1 - X) : exponent(n.toExponential(P - 1));
  if (!flags.includes('#')) s = s.replace(/\.?0+(?=e|$)/, (m) => (m.startsWith('.') || s.includes('.') ? '' : m));
  return s;
}

function float(v: unknown, conv: string, flags: string, prec: number | null): string {
  const n = toNumber(v);
  const p = Math.min(prec ?? 6, FLOAT_PRECISION_MAX);
  let s: string;
  switch (conv) {
    case 'e': case 'E': s = exponent(n.toExponential(p)); break;
    case 'g': case 'G': s = general(n, p, flags); break;
    default: s = fixed(n, p);
  }
  if (conv === 'E' || conv === 'G') s = s.toUpperCase();
  if (n >= 0 && flags.includes('+')) s = `+${s}`;
  else if (n >= 0 && flags.includes(' ')) s = ` ${s}`;
  return s;
}

/** A machine address as kmodel prints a pointer: 0x and at least 8 hex digits (two's complement, 64 bits). */
function address(v: unknown): string {
  return `0x${BigInt.asUintN(64, toBig(v)).toString(16).padStart(8, '0')}`;
}

/**
 * %p and its extensions (pointer() in lib/vsprintf.c). As there, every letter and digit after
 * the p belongs to the conversion; the first one selects it:
 *  - %p, %px, %pK: the address itself, as 0x and at least 8 hex digits. Linux hashes a plain %p
 *    (and %pK under kptr_restrict=0) so as not to leak kernel addresses; kmodel's addresses are
 *    offsets in machine memory with nothing to hide, so all three print the raw address (%px).
 *  - %pa, %pad, %pap: a phys_addr_t / dma_addr_t, passed by value here: as %px.
 *  - %pS, %ps, %pB (and their suffixes R, b): a symbol. A function prints its name; a number
 *    prints as sprint_symbol prints an address with no symbol, 0x and its hex digits.
 *  - %pe: an error pointer prints its errno name (-ENOMEM), or its number when the errno has no
 *    name; any other value prints as %p.
 * Other extensions (%pI4, %pM, %pU, %ph, %pV, ...) are not supported: they print as %p, their
 * letters consumed. A value that is no number (an object, a string) prints as %s would print it.
 */
function pointer(v: unknown, ext: string): string {
  const kind = ext[0];
  if ((kind === 'S' || kind === 's' || kind === 'B') && typeof v === 'function') return v.name || '(anonymous function)';
  if (typeof v !== 'number' && typeof v !== 'bigint') return v === null || v === undefined ? address(0) : toStr(v);
  if (kind === 'S' || kind === 's' || kind === 'B') return `0x${BigInt.asUintN(64, toBig(v)).toString(16)}`;
  if (kind === 'e' && IS_ERR(v)) return errname(v);
  return address(v);
}

export function vsprintf(fmt: string, args: readonly unknown[], warn?: FormatWarn): string {
  if (fmt.indexOf('%') < 0) return fmt;
  let specs = cache.get(fmt);
  if (!specs) {
    specs = parse(fmt);
    if (cache.size < 4096) cache.set(fmt, specs);
  }
  let out = '';
  let ai = 0;
  for (const s of specs) {
    if ('lit' in s) {
      out += s.lit;
      continue;
    }
    let flags = s.flags;
    let width = s.width !== '*' ? s.width
      : ai < args.length ? starArg(args[ai++], 'field width', FIELD_WIDTH_MAX, -FIELD_WIDTH_MAX, warn) : (ai++, null);
    let prec = s.prec !== '*' ? s.prec
      : ai < args.length ? starArg(args[ai++], 'precision', PRECISION_MAX, 0, warn) : (ai++, null);
    if (width !== null && width < 0) {
      flags += '-';
      width = -width;
    }
    if (width !== null && width > FIELD_WIDTH_MAX) {
      warn?.(`field width ${width} too large`);
      width = FIELD_WIDTH_MAX;
    }
    if (prec !== null && prec > PRECISION_MAX) {
      warn?.(`precision ${prec} too large`);
      prec = PRECISION_MAX;
    }
    if (ai >= args.length) {
      out += s.raw; // missing argument: the conversion stays as written
      continue;
    }
    const v = args[ai++];
    let body: string;
    let numeric = true;
    switch (s.conv) {
      case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
        body = integer(v, s.conv, s.len, flags, prec);
        break;
      case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
        body = float(v, s.conv, flags, prec);
        break;
      case 'c':
        body = typeof v === 'number' ? String.fromCharCode(v) : toStr(v).slice(0, 1);
        numeric = false;
        break;
      case 'p':
        body = pointer(v, s.ext);
        numeric = false;
        break;
      default: // s
        body = v === null || v === undefined ? '(null)' : toStr(v);
        if (prec !== null) body = body.slice(0, prec);
        numeric = false;
    }
    if (width !== null && body.length < width) {
      if (flags.includes('-')) body = body.padEnd(width);
      // A precision turns the 0 flag off for integers only (C99 7.19.6.1).
      else if (numeric && flags.includes('0') && (prec === null || 'eEfFgG'.includes(s.conv))) {
        const sign = /^([+\- ]|0[xX])/.exec(body)?.[0] ?? '';
        body = sign + body.slice(sign.length).padStart(width - sign.length, '0');
      } else body = body.padStart(width);
    }
    out += body;
  }
  return out;
}
