/**
 * vsprintf against C's printf on a table of ordinary conversions (printf-table.json, made by
 * printf-table.c: how to regenerate it is at its top), and its edge cases: arguments printk
 * cannot format as asked print something sensible, never throw.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vsprintf, FIELD_WIDTH_MAX, PRECISION_MAX } from '@kmodel/core/internal/printk/format.ts';

/** vsprintf, and what it warned about. */
function fmt(f: string, ...args: unknown[]): { out: string; warns: string[] } {
  const warns: string[] = [];
  return { out: vsprintf(f, args, (w) => warns.push(w)), warns };
}

describe('vsprintf: widths and precisions out of range', () => {
  it('%*d with width 1e9 is clamped to FIELD_WIDTH_MAX, with a warning', () => {
    const { out, warns } = fmt('%*d', 1e9, 5);
    expect(out).toHaveLength(FIELD_WIDTH_MAX);
    expect(out.endsWith(' 5')).toBe(true);
    expect(warns).toEqual(['field width 1000000000 too large']);
  });

  it('%*d with width -1e9 left-justifies in FIELD_WIDTH_MAX', () => {
    const { out, warns } = fmt('%*d|', -1e9, 5);
    expect(out).toHaveLength(FIELD_WIDTH_MAX + 1);
    expect(out.startsWith('5 ')).toBe(true);
    expect(warns).toEqual(['field width -1000000000 too large']);
  });

  it('%*d with a width that is not a number: no width, with a warning', () => {
    expect(fmt('[%*d]', NaN, 5)).toEqual({ out: '[5]', warns: ['field width NaN is not a number'] });
    expect(fmt('[%*d]', 'wide', 5)).toEqual({ out: '[5]', warns: ["field width 'wide' (a string) is not a number"] });
  });

  it('a literal width above FIELD_WIDTH_MAX is clamped too', () => {
    const { out, warns } = fmt('%99999999d', 1);
    expect(out).toHaveLength(FIELD_WIDTH_MAX);
    expect(warns).toEqual(['field width 99999999 too large']);
  });

  it('%.*s with precision 1e9 or -5: clamped to PRECISION_MAX or 0 (Linux set_precision)', () => {
    expect(fmt('[%.*s]', 1e9, 'abc')).toEqual({ out: '[abc]', warns: ['precision 1000000000 too large'] });
    expect(fmt('[%.*s]', -5, 'abc')).toEqual({ out: '[]', warns: ['precision -5 too large'] });
    expect(fmt('%.*d', 1e9, 7).out).toHaveLength(PRECISION_MAX);
  });

  it('floats with a precision beyond 100 digits print 100, not a RangeError', () => {
    expect(fmt('%.200f', 1.5).out).toBe(`1.5${'0'.repeat(99)}`);
    expect(fmt('%.*e', 500, 2).out).toMatch(/^2\.0{100}e\+00$/);
    expect(fmt('%.150g', 0.25).out).toBe('0.25');
  });

  it('a missing * argument leaves the conversion as written, without a warning', () => {
    expect(fmt('%*d')).toEqual({ out: '%*d', warns: [] });
  });
});

describe('vsprintf: values that do not convert', () => {
  it('%s of undefined and null is (null), as Linux prints a NULL string', () => {
    expect(vsprintf('%s %s', [undefined, null])).toBe('(null) (null)');
  });

  it('%d of a symbol, %s of an object with no toString: no TypeError', () => {
    expect(vsprintf('%d', [Symbol('s')])).toBe('0');
    expect(vsprintf('%s', [Object.create(null)])).toBe('an object');
    expect(vsprintf('%c|%p', [Object.create(null), Object.create(null)])).toBe('a|an object');
    expect(vsprintf('%f', [{ valueOf: () => { throw new Error('no'); } }])).toBe('NaN');
  });

  it('%s of an object is what String() makes of it, as before', () => {
    expect(vsprintf('%s', [{ toString: () => 'mine' }])).toBe('mine');
    expect(vsprintf('%s %d', ['str', 42])).toBe('str 42');
  });
});

interface PrintfCase {
  fmt: string;
  args: (number | string | { bigint: string })[];
  /** What glibc's printf printed. */
  out: string;
}

const table: PrintfCase[] = JSON.parse(readFileSync(new URL('./printf-table.json', import.meta.url), 'utf8'));
const key = (c: PrintfCase): string => `${c.fmt} ${JSON.stringify(c.args)}`;
const args = (c: PrintfCase): unknown[] => c.args.map((a) => (typeof a === 'object' ? BigInt(a.bigint) : a));

/** Where kmodel differs from C on purpose. */
const DELIBERATE: Record<string, string> = {
  '%p [4660]': 'kmodel prints a machine address as 0x and at least 8 hex digits, so addresses line up (Linux hashes a plain %p)',
};

/**
 * Where kmodel differs from C and should not: listed so the rest of the table holds. An entry that
 * comes to match C fails below: then take it off the list.
 */
const KNOWN_BUGS: Record<string, string> = {
};

describe("vsprintf against C's printf", () => {
  it('the table covers the conversions, flags, widths, precisions and length modifiers printk takes', () => {
    const fmts = table.map((c) => c.fmt).join(' ');
    for (const f of ['%d', '%i', '%u', '%x', '%X', '%o', '%c', '%s', '%5d', '%-5d', '%05d', '%+d', '% d', '%.3s', '%10.4f',
      '%e', '%E', '%g', '%G', '%%', '%ld', '%lu', '%llx', '%lld', '%hd', '%hhd', '%zu', '%#x', '%#o', '%*d', '%.*s', '%p']) {
      expect(fmts, f).toContain(f);
    }
  });

  for (const c of table) {
    const k = key(c);
    if (k in DELIBERATE) continue;
    const bug = KNOWN_BUGS[k];
    it(`${k} -> ${JSON.stringify(c.out)}${bug ? ' (known difference)' : ''}`, () => {
      const out = vsprintf(c.fmt, args(c));
      if (bug) expect(out, `now matches C: remove it from KNOWN_BUGS (${bug})`).not.toBe(c.out);
      else expect(out).toBe(c.out);
    });
  }

  it('every listed difference names a case of the table', () => {
    const keys = new Set(table.map(key));
    for (const k of [...Object.keys(DELIBERATE), ...Object.keys(KNOWN_BUGS)]) expect(keys.has(k), k).toBe(true);
  });
});
