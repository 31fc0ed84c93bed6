import { describe, expect, it } from 'vitest';
import { decode_payload, encode_payload } from '@kmodel/core/internal/shared/marshal.ts';
import { task_struct } from '@kmodel/core/internal/sched/task.ts';
import { machine_memory } from './helpers.ts';

describe('thread data on the wire', () => {
  it('data that refers to itself arrives with the same cycles (structured clone keeps them)', () => {
    const mem = machine_memory();
    const node: Record<string, unknown> = { name: 'a', list: [] as unknown[] };
    node.self = node;
    (node.list as unknown[]).push(node, { up: node });
    const back = decode_payload(mem, encode_payload(mem, node)) as typeof node & { list: [unknown, { up: unknown }] };
    expect(back.name).toBe('a');
    expect(back.self).toBe(back);
    expect(back.list[0]).toBe(back);
    expect(back.list[1].up).toBe(back);
  });

  it('a shared array and a thread handle inside a cycle come back as themselves', () => {
    const mem = machine_memory();
    const arr = new Int32Array(mem.sab, 64, 4);
    const box: Record<string, unknown> = { arr, k: new task_struct(105, 5) };
    box.again = [box, arr];
    const back = decode_payload(mem, encode_payload(mem, box)) as { arr: Int32Array; k: task_struct; again: [unknown, Int32Array] };
    expect(back.arr.buffer).toBe(mem.sab);
    expect(back.arr.byteOffset).toBe(64);
    expect(back.again[0]).toBe(back);
    expect(back.again[1].byteOffset).toBe(64);
    expect(back.k.pid).toBe(105);
    expect(back.k.slot).toBe(5);
  });
});
