import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
// @ts-expect-error: plain JS, no declarations
import { cli_image } from '../packages/cli/bin/cli-image.mjs';
import { kmodel } from './helpers/machine.ts';

describe('the CLI image (bin/cli-image.mjs)', () => {
  it('is built once per state of the sources: the same entries twice, both files present, main and trial in one directory', async () => {
    const a = await cli_image();
    const b = await cli_image();
    expect(b).toEqual(a);
    expect(fileURLToPath(a.main)).toMatch(/packages\/cli\/\.cli-image\/[0-9a-f]{16}\/main\.mjs$/);
    expect(dirname(fileURLToPath(a.trial))).toBe(dirname(fileURLToPath(a.main)));
    expect(existsSync(fileURLToPath(a.main)) && existsSync(fileURLToPath(a.trial))).toBe(true);
  });

  it('leaves the Redis client and the TypeScript compiler out of what every command loads', async () => {
    // Every file the main entry imports statically, transitively (chunks are "./chunk-X.mjs").
    const loaded = new Set<string>();
    const visit = (url: URL): void => {
      if (loaded.has(url.href)) return;
      loaded.add(url.href);
      const text = readFileSync(fileURLToPath(url), 'utf8');
      for (const [, spec] of text.matchAll(/^import\s[^;]*?from\s*"([^"]+)";?$|^import\s*"([^"]+)";?$/gm)) {
        if (spec?.startsWith('./')) visit(new URL(spec, url));
        else if (spec) loaded.add(spec);
      }
    };
    visit(new URL((await cli_image()).main));
    expect([...loaded].filter((s) => /chunk-/.test(s)).length).toBeGreaterThan(0);
    expect([...loaded].filter((s) => /bullmq|ioredis|typescript/.test(s))).toEqual([]);
    expect([...loaded].some((s) => /commander/.test(s))).toBe(true);
  });

  it('keeps each source\'s own paths: --version reads the cli package\'s version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await kmodel(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});
