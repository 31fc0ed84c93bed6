/**
 * What a kthreadd request carries to the new thread's CPU: the entry's name, then the thread's
 * data in the slot's payload bytes. Plain values (null, undefined, booleans, numbers, strings)
 * travel as they are; anything else is structured-cloned with its shared objects (shared/marshal.ts).
 */
import {
  REQUEST, REQUEST_PAYLOAD_MAX, RD_FALSE, RD_NULL, RD_NUMBER, RD_SERIAL, RD_STRING, RD_TRUE, RD_UNDEFINED,
} from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { encode_payload, decode_payload } from '../shared/marshal.ts';

/** The data ready to be written (its kind, and the serializer's bytes for RD_SERIAL). */
export interface EncodedData {
  kind: number;
  data: unknown;
  serial: Uint8Array | null;
}

/** Encode `data`; throws MarshalError for data that cannot travel (before any slot is claimed). */
export function payload_encode(mem: Memory, data: unknown): EncodedData {
  const kind = data_kind(data);
  return { kind, data, serial: kind === RD_SERIAL ? encode_payload(mem, data) : null };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** How `data` travels in a request (RD_*): plain values without the serializer. */
function data_kind(data: unknown): number {
  if (data === null) return RD_NULL;
  switch (typeof data) {
    case 'undefined': return RD_UNDEFINED;
    case 'boolean': return data ? RD_TRUE : RD_FALSE;
    case 'number': return RD_NUMBER;
    case 'string': return RD_STRING;
    default: return RD_SERIAL;
  }
}

/**
 * Write the payload of request word `q`: the entry's name, then the data's bytes if it has any.
 * False if they do not fit.
 */
export function payload_write(mem: Memory, q: number, entry: string, enc: EncodedData): boolean {
  const { kind, data, serial } = enc;
  const w = mem.i32;
  const at = (q + REQUEST.PAYLOAD) * 4;
  const room = mem.u8.subarray(at, at + REQUEST_PAYLOAD_MAX);
  const e = encoder.encodeInto(entry, room);
  if (e.read < entry.length) return false;
  let len = e.written;
  if (kind === RD_STRING) {
    const d = encoder.encodeInto(data as string, room.subarray(len));
    if (d.read < (data as string).length) return false;
    len += d.written;
  } else if (serial) {
    if (len + serial.length > REQUEST_PAYLOAD_MAX) return false;
    room.set(serial, len);
    len += serial.length;
  }
  w[q + REQUEST.ENTRY_LEN] = e.written;
  w[q + REQUEST.DATA_KIND] = kind;
  w[q + REQUEST.PAYLOAD_LEN] = len;
  if (kind === RD_NUMBER) mem.f64[(q + REQUEST.DATA_F64) >> 1] = data as number;
  return true;
}

/** The entry name and data of request word `q`'s payload. */
export function payload_read(mem: Memory, q: number): { e: string; d: unknown } {
  const w = mem.i32;
  const at = (q + REQUEST.PAYLOAD) * 4;
  const elen = w[q + REQUEST.ENTRY_LEN];
  const end = at + w[q + REQUEST.PAYLOAD_LEN];
  const e = entry_name(mem, at, elen);
  let d: unknown;
  switch (w[q + REQUEST.DATA_KIND]) {
    case RD_NULL: d = null; break;
    case RD_UNDEFINED: d = undefined; break;
    case RD_FALSE: d = false; break;
    case RD_TRUE: d = true; break;
    case RD_NUMBER: d = mem.f64[(q + REQUEST.DATA_F64) >> 1]; break;
    case RD_STRING: d = decoder.decode(mem.u8.slice(at + elen, end)); break;
    default: d = decode_payload(mem, mem.u8.slice(at + elen, end));
  }
  return { e, d };
}

/** The last entry name decoded on this CPU, and its bytes: a CPU mostly starts the same few entries. */
let lastEntry = '';
let lastEntryBytes = new Uint8Array(0);

/** The entry name of `len` bytes at byte `at` (decoded once for a run of the same name). */
function entry_name(mem: Memory, at: number, len: number): string {
  const u8 = mem.u8;
  let same = len === lastEntryBytes.length;
  for (let i = 0; same && i < len; i++) same = u8[at + i] === lastEntryBytes[i];
  if (same) return lastEntry;
  lastEntryBytes = u8.slice(at, at + len);
  lastEntry = decoder.decode(lastEntryBytes);
  return lastEntry;
}
