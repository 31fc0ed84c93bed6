/**
 * A thread (or init()) that throws a value that is no Error oopses in the module's terms: the
 * value as what it is, the entry that threw it and the module's file; never as if an Error had
 * been thrown. An Error's oops is unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InsmodError, Machine, type LogRecord } from '@kmodel/core';
import { fixture } from './helpers/machine.ts';

let m: Machine;
let log: LogRecord[];
let initError: unknown;

beforeAll(async () => {
  m = await Machine.boot({ cpus: 2 });
  await m.insmod(fixture('flt_throw_values'));
  initError = await m.insmod(fixture('flt_init_throws')).then(() => null, (e: unknown) => e);
  log = m.dmesg();
});
afterAll(async () => {
  await m.shutdown();
});

const oops = (comm: string) => log.find((r) => r.report === 'oops' && r.comm === comm)!;
const of = (entry: string) => `${entry}() of module flt_throw_values (${fixture('flt_throw_values')})`;

describe('an oops for a thrown value that is no Error', () => {
  it.each([
    ['throws_string', `'a string' (a string) thrown by ${of('throws_string')}`],
    ['throws_undefine', `undefined thrown by ${of('throws_undefined')}`],
    ['throws_symbol', `Symbol(sym) (a symbol) thrown by ${of('throws_symbol')}`],
    ['throws_number', `-22 (a number) thrown by ${of('throws_number')}`],
    ['throws_null', `null thrown by ${of('throws_null')}`],
    ['throws_object', `an object with message 'not an Error' thrown by ${of('throws_object')}`],
  ])('%s: the value, the entry and the module file, in the line and in the error field', (comm, error) => {
    const r = oops(comm);
    expect(r.msg.split('\n')[0]).toMatch(new RegExp(`^Oops: ${error.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\[#\\d+\\] SMP$`));
    expect(r.fields?.error).toBe(error);
    expect(r.fields?.stack).toEqual([]);
    expect(r.msg).not.toMatch(/Error:/);
  });

  it('the thread dies with -EFAULT, as for an Error', () => {
    expect(log.filter((r) => / stopped: /.test(r.msg)).map((r) => r.msg.trimEnd())).toEqual([
      'throws_string stopped: -14', 'throws_undefined stopped: -14', 'throws_symbol stopped: -14',
      'throws_number stopped: -14', 'throws_null stopped: -14', 'throws_object stopped: -14', 'throws_error stopped: -14',
    ]);
  });

  it('an Error thrown: "NAME: MESSAGE" and its module frames, as before', () => {
    const r = oops('throws_error');
    expect(r.msg.split('\n')[0]).toMatch(/^Oops: RangeError: a real Error \[#\d+\] SMP$/);
    expect(r.fields?.error).toBe('RangeError: a real Error');
    expect(r.fields?.stack).toEqual([expect.stringMatching(/^at throws_error \(.*flt_throw_values\.ts:\d+:\d+\)$/)]);
  });

  it('init() throwing a string: the oops names init() and the module file, and insmod fails', () => {
    const r = log.find((x) => x.report === 'oops' && x.comm === 'insmod')!;
    expect(r.fields?.error).toBe(`'init gave up' (a string) thrown by init() of module flt_init_throws (${fixture('flt_init_throws')})`);
    expect(initError).toBeInstanceOf(InsmodError);
  });
});
