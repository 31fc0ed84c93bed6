/**
 * The HTML timeline in a real browser: headless Chromium (Debian's, installed with apt-get when
 * missing and this user may) driven by playwright-core. Without a browser the tests are skipped
 * and say why. Screenshots go to test-artifacts/ (not committed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { timeline_html, timeline_model } from '@kmodel/core/internal/machine/timeline.ts';
import { fixture, kmodel, ROOT } from './helpers/machine.ts';
import { switch_trace } from './helpers/switch-trace.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function on_path(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** A Chromium to drive, installing Debian's when there is none; or why there is none. */
function find_chromium(): { path: string } | { why: string } {
  const found = () => CANDIDATES.map(on_path).find((p) => p !== null) ?? null;
  const have = process.env.CHROMIUM_PATH ?? found();
  if (have) return { path: have };
  if (!on_path('apt-get')) return { why: 'no chromium on PATH and no apt-get to install it (set CHROMIUM_PATH)' };
  if (process.getuid?.() !== 0) return { why: 'no chromium on PATH and not root: apt-get install chromium (or set CHROMIUM_PATH)' };
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'ignore', env, timeout: 600_000 });
  } catch (e) {
    return { why: `apt-get install chromium failed: ${(e as Error).message.split('\n')[0]}` };
  }
  const now = found();
  return now ? { path: now } : { why: 'apt-get installed chromium but it is not on PATH' };
}

type Playwright = typeof import('playwright-core');

/** What the page's script exposes (the test compiles without the DOM library). */
interface Page {
  __timeline?: { rendered: boolean; renderMs: number; slices: number; view(): { a: number; b: number } };
  requestAnimationFrame(f: (t: number) => void): number;
}
async function load_playwright(): Promise<Playwright | string> {
  try {
    return await import('playwright-core');
  } catch (e) {
    return `playwright-core does not load (corepack pnpm install): ${(e as Error).message}`;
  }
}

const pw = await load_playwright();
const chrome = typeof pw === 'string' ? { why: pw } : find_chromium();
const why = 'why' in chrome ? chrome.why : null;
if (why) console.warn(`timeline browser tests skipped: ${why}`);

describe.skipIf(why !== null)('the HTML timeline in headless Chromium', () => {
  let browser: Awaited<ReturnType<Playwright['chromium']['launch']>>;
  const dir = mkdtempSync(join(tmpdir(), 'kmodel-timeline-'));

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await (pw as Playwright).chromium.launch({
      executablePath: (chrome as { path: string }).path, headless: true, args: ['--no-sandbox', '--disable-gpu'],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Open a file:// page, collecting console errors and uncaught exceptions. */
  async function open(file: string, width = 1400) {
    const page = await browser.newPage({ viewport: { width, height: 800 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => requests.push(r.url()));
    const t0 = performance.now();
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => (globalThis as unknown as Page).__timeline?.rendered === true);
    const loadMs = performance.now() - t0;
    return { page, errors, requests, loadMs };
  }

  it('of a run that oopses: CPU lanes and a report marker in the DOM, the report text on click, zoom and pan, no console errors', async () => {
    const file = join(dir, 'oops.html');
    const r = await kmodel(['run', fixture('campaign_oops'), '--cpus', '2', '--seed', '5', '--timeline', file, '--log-format', 'json']);
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(1);
    const { page, errors, requests } = await open(file);
    expect(await page.locator('[data-testid=lane]').allTextContents()).toEqual(['cpu0', 'cpu1']);
    const markers = page.locator('[data-testid=report-marker]');
    expect(await markers.count()).toBeGreaterThanOrEqual(1);
    expect(await markers.first().getAttribute('data-kind')).toBe('oops');
    expect(await page.locator('[data-testid=legend-thread]').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^thrower\/\d+$/)]));
    expect(await page.locator('#flows-note').textContent()).toMatch(/^Arrows: [1-9]\d* wakeups \(waker → wakee\)/); // the run's wakeups, drawn

    await markers.first().click();
    const text = await page.locator('[data-testid=report-text]').textContent();
    expect(text).toMatch(/BUG: kernel NULL pointer dereference|Oops|TypeError/);
    expect(text).toMatch(/thrower/);

    const view = () => page.evaluate(() => (globalThis as unknown as Page).__timeline!.view());
    const whole = await view();
    const box = (await page.locator('#plot').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 60);
    await page.mouse.wheel(0, -600);
    await page.waitForTimeout(50);
    const zoomed = await view();
    expect(zoomed.b - zoomed.a).toBeLessThan((whole.b - whole.a) / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - 200, box.y + 60, { steps: 4 });
    await page.mouse.up();
    await page.waitForTimeout(50);
    const panned = await view();
    expect(panned.a).toBeGreaterThan(zoomed.a);
    expect(panned.b - panned.a).toBeCloseTo(zoomed.b - zoomed.a, 3);
    await page.mouse.dblclick(box.x + 100, box.y + 60);
    await page.waitForTimeout(50);
    await markers.first().click();

    await page.screenshot({ path: join(ARTIFACTS, 'timeline-oops.png'), fullPage: true });
    expect(statSync(join(ARTIFACTS, 'timeline-oops.png')).size).toBeGreaterThan(1000);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('of 1e5 switches on 8 CPUs: renders, no console errors; prints how long the first frame and the whole load took', async () => {
    const file = join(dir, 'big.html');
    const html = timeline_html(timeline_model(switch_trace(100_000, 8, 200), 100_000 * 0.37, [{
      seq: 1, level: 4, cpu: 3, pid: 150, comm: 'worker/50', uptime: 12, msg: 'WARNING: CPU: 3 PID: 150 at big.ts:1 demo', report: 'warn',
    }], '1e5 switches'));
    writeFileSync(file, html);
    const { page, errors, loadMs } = await open(file, 1600);
    const frame = await page.evaluate(() => (globalThis as unknown as Page).__timeline!);
    console.log(`timeline of ${frame.slices} slices (${(html.length / 2 ** 20).toFixed(2)} MiB): script and first frame ${frame.renderMs.toFixed(1)} ms, file:// load to first frame ${loadMs.toFixed(0)} ms`);
    expect(frame.slices).toBeGreaterThan(90_000);
    expect(await page.locator('[data-testid=lane]').count()).toBe(8);
    expect(await page.locator('[data-testid=report-marker]').count()).toBe(1);
    const box = (await page.locator('#plot').boundingBox())!;
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) {
      await page.mouse.move(box.x + box.width / 3, box.y + 80);
      await page.mouse.wheel(0, i < 5 ? -400 : 400);
    }
    await page.evaluate(() => new Promise((r) => { const g = globalThis as unknown as Page; g.requestAnimationFrame(() => g.requestAnimationFrame(r)); }));
    console.log(`10 wheel zooms on 1e5 slices: ${(performance.now() - t0).toFixed(0)} ms`);
    await page.screenshot({ path: join(ARTIFACTS, 'timeline-1e5.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});

if (why !== null) {
  describe('the HTML timeline in headless Chromium', () => {
    it.skip(`skipped: ${why}`, () => {});
  });
}
