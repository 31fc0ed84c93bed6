/**
 * Unit test of kthreadd's request slots on a machine memory built in-process: a thread's entry and
 * data as the new thread's CPU takes them (plain values without the serializer, the rest
 * structured-cloned), the pending map kthreadd serves from (oldest first), and the slots a failed
 * fill leaves free.
 */
import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import {
  HEADER, RD_NULL, RD_NUMBER, RD_SERIAL, RD_STRING, REQUEST, REQUEST_PAYLOAD_MAX, REQUEST_SLOTS, RS_ATTACHED, RS_FREE, THREAD,
} from '@kmodel/core/internal/memory/layout.ts';
import {
  kthreadd_serve, request_fill, request_result, request_slot_free, request_submit, request_take_payload, type CreateRequest,
} from '@kmodel/core/internal/kthread/kthreadd.ts';
import { MarshalError } from '@kmodel/core/internal/shared/marshal.ts';
import { EAGAIN, E2BIG } from '@kmodel/core/internal/arch/errno.ts';

function machine(threads = 16): Memory {
  return Memory.create({ cpus: 2, maxThreads: threads, logBytes: 1 << 16, arenaBytes: 1 << 20 }, 250, 1);
}

function req(data: unknown, entry = 'worker'): CreateRequest {
  return { module: 1, entry, data, comm: 'worker', cpu: 0, requester: 3 };
}

/** Create a thread with `data` through kthreadd; its entry and data as its CPU takes them. */
function travel(mem: Memory, data: unknown, entry = 'worker'): { e: string; d: unknown; kind: number } {
  const r = request_fill(mem, req(data, entry));
  expect(r).toBeGreaterThanOrEqual(0);
  const kind = mem.i32[mem.layout.requestWord(r) + REQUEST.DATA_KIND];
  request_submit(mem, r);
  expect(kthreadd_serve(mem)).toBe(1);
  const [slot] = request_result(mem, r);
  expect(slot).toBeGreaterThanOrEqual(0);
  expect(mem.i32[mem.threadWord(slot) + THREAD.PAYLOAD]).toBe(r);
  const p = request_take_payload(mem, r)!;
  expect(mem.i32[mem.layout.requestWord(r) + REQUEST.STATE]).toBe(RS_FREE);
  return { ...p, kind };
}

describe('kthreadd requests', () => {
  it('plain data travels without the serializer and comes back the same', () => {
    const mem = machine();
    expect(travel(mem, null)).toEqual({ e: 'worker', d: null, kind: RD_NULL });
    expect(travel(mem, undefined).d).toBeUndefined();
    expect(travel(mem, true).d).toBe(true);
    expect(travel(mem, false).d).toBe(false);
    expect(travel(mem, -0.5)).toEqual({ e: 'worker', d: -0.5, kind: RD_NUMBER });
    expect(Object.is(travel(mem, -0).d, -0)).toBe(true);
    expect(travel(mem, NaN).d).toBeNaN();
    expect(travel(mem, 'añ€ 😀')).toEqual({ e: 'worker', d: 'añ€ 😀', kind: RD_STRING });
    expect(travel(mem, '')).toEqual({ e: 'worker', d: '', kind: RD_STRING });
  });

  it('other data is structured-cloned after the entry name; entry names change from one thread to the next', () => {
    const mem = machine();
    expect(travel(mem, { n: 1, a: [1, 'x'] }, 'reader')).toEqual({ e: 'reader', d: { n: 1, a: [1, 'x'] }, kind: RD_SERIAL });
    expect(travel(mem, 7n, 'writer')).toEqual({ e: 'writer', d: 7n, kind: RD_SERIAL });
    expect(travel(mem, 7, 'writer').e).toBe('writer');
    expect(travel(mem, 7, 'reader').e).toBe('reader');
  });

  it('data that cannot travel throws before a slot is claimed; data too large is -E2BIG and frees its slot', () => {
    const mem = machine();
    expect(() => request_fill(mem, req({ f: () => 0 }))).toThrow(MarshalError);
    expect(() => request_fill(mem, req(Symbol('s')))).toThrow(MarshalError);
    expect(request_fill(mem, req('x'.repeat(REQUEST_PAYLOAD_MAX)))).toBe(-E2BIG);
    expect(request_fill(mem, req({ s: 'x'.repeat(REQUEST_PAYLOAD_MAX) }))).toBe(-E2BIG);
    for (let r = 0; r < REQUEST_SLOTS; r++) expect(mem.i32[mem.layout.requestWord(r) + REQUEST.STATE]).toBe(RS_FREE);
    expect(request_fill(mem, req('x'.repeat(REQUEST_PAYLOAD_MAX - 'worker'.length)))).toBeGreaterThanOrEqual(0);
  });

  it('kthreadd serves the pending map oldest first, clears it, and leaves other slots alone', () => {
    const mem = machine(REQUEST_SLOTS + 8);
    const slots: number[] = [];
    for (let i = 0; i < REQUEST_SLOTS; i++) slots.push(request_fill(mem, req(i)));
    expect(request_fill(mem, req(0))).toBe(-EAGAIN);
    expect(request_slot_free(mem)).toBe(false);
    // Submitted out of slot order (100 first), one in each map word and across them.
    const order = [100, 5, 31, 32, 127, 64, 0];
    for (const r of order) request_submit(mem, slots[r]);
    expect([0, 1, 2, 3].map((m) => mem.i32[HEADER.REQ_MAP + m] >>> 0)).toEqual([
      (1 << 0 | 1 << 5 | 1 << 31) >>> 0, 1 << 0, 1 << 0, (1 << 4 | 1 << 31) >>> 0,
    ]);
    expect(kthreadd_serve(mem)).toBe(order.length);
    expect([0, 1, 2, 3].map((m) => mem.i32[HEADER.REQ_MAP + m])).toEqual([0, 0, 0, 0]);
    const pids = order.map((r) => request_result(mem, slots[r])[1]);
    expect(pids).toEqual([...pids].sort((a, b) => a - b)); // created in submission order
    for (const r of order) expect(mem.i32[mem.layout.requestWord(slots[r]) + REQUEST.STATE]).toBe(RS_ATTACHED);
    expect(kthreadd_serve(mem)).toBe(0); // the others were never submitted
  });
});
