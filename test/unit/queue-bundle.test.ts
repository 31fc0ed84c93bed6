/**
 * campaign/queue: a module's bundle (its own files, relative to their common directory, one
 * sha256 over them), the checks a worker makes before it writes and builds one, the wire form of
 * a trial's result, and the --queue URL's form. No Redis.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build_fault, bundle_fault, bundle_module, materialize, type ModuleBundle } from '../../packages/cli/src/campaign/queue/bundle.ts';
import { from_wire, to_wire } from '../../packages/cli/src/campaign/queue/job.ts';
import { queue_url } from '../../packages/cli/src/campaign/queue/url.ts';
import type { TrialResult } from '../../packages/cli/src/campaign/task.ts';

const dirs: string[] = [];
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'kmodel-bundle-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function put(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const HELPER = `import { printk } from '@kmodel/core';\nexport const answer = 41;\nexport function say(): void { printk('helper\\n'); }\n`;
const ENTRY = [
  `import { kthread_run } from '@kmodel/core/linux';`,
  `import { answer, say } from '../lib/helper.ts';`,
  `export async function worker(): Promise<number> { say(); return answer + 1; }`,
  `export async function init(): Promise<number> { await kthread_run(worker, null, 'w'); return 0; }`,
  '',
].join('\n');

/** A module in DIR/sub/mod.ts that imports DIR/lib/helper.ts (and kmodel's own paths). */
function module_tree(): { dir: string; entry: string; helper: string } {
  const dir = scratch();
  return { dir, entry: put(join(dir, 'sub', 'mod.ts'), ENTRY), helper: put(join(dir, 'lib', 'helper.ts'), HELPER) };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('bundle_module', () => {
  it('holds the module and the helper it imports, relative to their common directory; kmodel paths stay out', async () => {
    const t = module_tree();
    const b = await bundle_module(t.entry);
    expect(b.entry).toBe('sub/mod.ts');
    expect(Object.keys(b.files).sort()).toEqual(['lib/helper.ts', 'sub/mod.ts']);
    expect(b.files['sub/mod.ts']).toBe(b64(ENTRY));
    expect(b.files['lib/helper.ts']).toBe(b64(HELPER));
    expect(b.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(bundle_fault(b)).toBeNull();
  });

  it('the same files give the same hash; a changed helper changes it', async () => {
    const t = module_tree();
    const a = await bundle_module(t.entry);
    expect((await bundle_module(t.entry)).sha256).toBe(a.sha256);
    writeFileSync(t.helper, HELPER.replace('41', '42'));
    const c = await bundle_module(t.entry);
    expect(c.entry).toBe(a.entry);
    expect(c.files['sub/mod.ts']).toBe(a.files['sub/mod.ts']);
    expect(c.sha256).not.toBe(a.sha256);
  });

  it('a module that is not there, or does not build, has no bundle', async () => {
    const dir = scratch();
    await expect(bundle_module(join(dir, 'absent.ts'))).rejects.toThrow(/absent\.ts: no such file/);
    const bad = put(join(dir, 'bad.ts'), `import { x } from './missing.ts';\nexport const y = x;\n`);
    await expect(bundle_module(bad)).rejects.toThrow(/bad\.ts does not build: .*missing\.ts/);
  });
});

describe('bundle_fault', () => {
  it('a changed file under the same hash, a wrong hash, a path leaving the root, a missing entry', async () => {
    const b = await bundle_module(module_tree().entry);
    const changed: ModuleBundle = { ...b, files: { ...b.files, 'lib/helper.ts': b64(HELPER.replace('41', '40')) } };
    expect(bundle_fault(changed)).toMatch(new RegExp(`^the module's sha256 is [0-9a-f]{12}, not the ${b.sha256.slice(0, 12)} the campaign sent$`));
    expect(bundle_fault({ ...b, sha256: '0'.repeat(64) })).toBe(`the module's sha256 is ${b.sha256.slice(0, 12)}, not the 000000000000 the campaign sent`);
    for (const p of ['../evil.ts', 'lib/../../evil.ts', '/etc/evil.ts']) {
      expect(bundle_fault({ ...b, files: { ...b.files, [p]: b64('x') } }), p).toBe(`the bundle's path ${JSON.stringify(p)} leaves its directory`);
    }
    expect(bundle_fault({ ...b, entry: 'sub/other.ts' })).toBe('the bundle has no module file');
  });
});

describe('materialize, build_fault', () => {
  it('writes the layout under root/<sha256>/, which builds; a second call returns the same path', async () => {
    const b = await bundle_module(module_tree().entry);
    const root = scratch();
    const entry = materialize(b, root);
    expect(entry).toBe(join(root, b.sha256, 'sub', 'mod.ts'));
    expect(readFileSync(entry, 'utf8')).toBe(ENTRY);
    expect(readFileSync(join(root, b.sha256, 'lib', 'helper.ts'), 'utf8')).toBe(HELPER);
    expect(await build_fault(entry)).toBeNull();
    expect(materialize(b, root)).toBe(entry);
    expect(readFileSync(entry, 'utf8')).toBe(ENTRY);
  });

  it('a syntax error: file:line and esbuild\'s text', async () => {
    const bad = put(join(scratch(), 'broken.ts'), 'export const a = 1;\n\nexport const b = ;\n');
    expect(await build_fault(bad)).toMatch(/broken\.ts:3: Unexpected ";"$/);
  });
});

describe('to_wire, from_wire', () => {
  it('a controlled result with its step record survives JSON exactly', () => {
    // The record as a view into a larger buffer: only its own bytes travel.
    const backing = new Int32Array([99, 0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 123456789, 99]);
    const entries = backing.subarray(1, 7);
    const r: TrialResult = {
      seed: 17, verdict: ['oops', 'lockdep'], worker: 3, ms: 250, error: 'x',
      control: { steps: 25, threads: 4, preemptions: 2 },
      schedule: { entries, module_sha256: 'ab'.repeat(32), report: 'oops' },
    };
    const wire = JSON.parse(JSON.stringify(to_wire(r, 'host-a/42')));
    expect(typeof wire.schedule.entries).toBe('string');
    const back = from_wire(wire);
    expect(back.schedule!.entries).toBeInstanceOf(Int32Array);
    expect(Array.from(back.schedule!.entries)).toEqual([0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 123456789]);
    expect(back).toEqual({ ...r, host: 'host-a/42', schedule: { ...r.schedule, entries: new Int32Array([0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 123456789]) } });
  });

  it('a result without a schedule; a cancelled mark does not come back', () => {
    const r: TrialResult = { seed: 1, verdict: 'clean', worker: 1, ms: 5 };
    expect(from_wire(JSON.parse(JSON.stringify(to_wire(r, 'h/1'))))).toEqual({ ...r, host: 'h/1' });
    expect(from_wire({ ...to_wire(r, 'h/1'), cancelled: true })).toEqual({ ...r, host: 'h/1' });
  });
});

describe('queue_url', () => {
  it('accepts redis:// and rediss:// with a port and a database', () => {
    expect(queue_url('redis://h:1')).toMatchObject({ protocol: 'redis:', hostname: 'h', port: '1' });
    expect(queue_url('rediss://h:1/2')).toMatchObject({ protocol: 'rediss:', hostname: 'h', port: '1', pathname: '/2' });
  });

  it('rejects another scheme, a non-URL, no host, a database that is not a number', () => {
    expect(() => queue_url('http://x')).toThrow(/^--queue http:\/\/x: a http: URL; expected redis:\/\/HOST:PORT/);
    expect(() => queue_url('x')).toThrow(/^--queue x: not a URL; expected redis:\/\/HOST:PORT/);
    expect(() => queue_url('redis:///')).toThrow(/^--queue redis:\/\/\/: no host/);
    expect(() => queue_url('redis://h/notanumber')).toThrow(/^--queue redis:\/\/h\/notanumber: database "notanumber" is not a number/);
  });
});
