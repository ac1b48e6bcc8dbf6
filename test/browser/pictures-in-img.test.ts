// Pictures embedded with <img>, in real Chromium, through wrangler dev (the Worker in workerd with local
// R2 and Durable Objects) in front of the GPU stub, whose timing each test chooses:
// - an <img> of a bad URL shows the error picture (an SVG of the asked size saying why), and a hostile
//   reason stays text;
// - an <img> of a new URL whose generation outlasts HOLD_MS (1 s here) is redirected to itself while the
//   generation goes on and shows the picture once it is ready: one GPU call, charged once (the rate
//   limit is 1 a minute, so a charged redirect would end in a 429).
// Screenshots go to test-results/browser/.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../contract';
import { gpuStubControl } from '../contract/gpu-stub-control';
import { type GpuStub, startGpuStub } from '../support/gpu-stub-server';
import { launchChromium, screenshotPath } from '../support/stack-browser';
import { startStackEdge, type StackEdge } from '../support/stack-processes';

const STUB_MODEL: ModelInfo = {
  model: 'tiny-sd@local-browser-stub',
  id: 'tiny-sd',
  revision: 'local-browser-stub',
  defaults: { steps: 4, guidance: 7.5, scheduler: 'pndm', width: 64, height: 64 },
  limits: { min_side: 16, max_side: 512, side_multiple: 16, max_steps: 50 },
};
const TOKEN = 'browser-stub-token';
const HOLD_MS = 1000;

let stub: GpuStub;
let edge: StackEdge;
let browser: Browser;

beforeAll(async () => {
  stub = await startGpuStub({ model: STUB_MODEL.model, token: TOKEN });
  [edge, browser] = await Promise.all([
    startStackEdge(
      { url: stub.url, token: TOKEN, info: STUB_MODEL },
      { vars: { HOLD_MS: String(HOLD_MS), RATE_LIMIT_PER_MINUTE: '1' } },
    ),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await edge?.stop();
  await stub?.close();
});

interface Shown {
  readonly complete: boolean;
  readonly width: number;
  readonly height: number;
}

/** A page of nothing but `<img src=url>`; resolves with what the image element shows once it settled. */
async function embed(url: string, page?: Page): Promise<{ page: Page; shown: Shown }> {
  page ??= await browser.newPage({ viewport: { width: 600, height: 400 } });
  await page.setContent('<!doctype html><body style="margin:0"><img id="picture" alt="embedded"></body>');
  const shown = await page.$eval(
    '#picture',
    (img, src): Promise<Shown> =>
      new Promise((resolve) => {
        const settle = () => resolve({ complete: img.complete, width: img.naturalWidth, height: img.naturalHeight });
        img.addEventListener('load', settle, { once: true });
        img.addEventListener('error', settle, { once: true });
        img.src = src;
      }),
    url,
  );
  return { page, shown };
}

describe('errors inside <img>', () => {
  it('an <img> of a bad URL shows a picture of the asked size saying why', async () => {
    const url = `${edge.url}/v1/images?prompt=a+lighthouse&steps=abc&width=320&height=160`;
    const { page, shown } = await embed(url);
    // A broken image has naturalWidth 0; the error picture decodes at the size the URL asked for.
    expect(shown).toEqual({ complete: true, width: 320, height: 160 });
    await page.screenshot({ path: screenshotPath('img-error-picture') });

    // What Chromium sent for the <img> is what selects the picture (Sec-Fetch-Dest: image).
    const text = await page.evaluate(async (src) => {
      const response = await fetch(src, { headers: { Accept: 'image/svg+xml' } });
      return { status: response.status, type: response.headers.get('Content-Type'), body: await response.text() };
    }, url);
    expect(text.status).toBe(400);
    expect(text.type).toBe('image/svg+xml; charset=utf-8');
    await page.close();
  });

  it('a hostile reason is parsed by Chromium as text: no element, no script, the markup shown literally', async () => {
    const hostile = '<script>document.title="owned"</script><image href="https://evil.example/x.png"/>';
    const url = `${edge.url}/v1/images?prompt=x&${encodeURIComponent(hostile)}=1`;
    const { page, shown } = await embed(url);
    expect(shown).toEqual({ complete: true, width: 64, height: 64 });

    const parsed = await page.$eval('#picture', async (img, src) => {
      const body = await (await fetch(src, { headers: { Accept: 'image/svg+xml' } })).text();
      const doc = new img.ownerDocument.defaultView.DOMParser().parseFromString(body, 'image/svg+xml');
      return {
        wellFormed: doc.getElementsByTagName('parsererror').length === 0,
        elements: [...new Set([...doc.querySelectorAll('*')].map((el) => el.localName))].sort(),
        title: doc.querySelector('title')?.textContent ?? '',
      };
    }, url);
    expect(parsed.wellFormed).toBe(true);
    expect(parsed.elements).toEqual(['g', 'rect', 'svg', 'text', 'title']);
    expect(parsed.title).toContain(`${hostile}: is not a parameter of this API`);
    expect(await page.title()).not.toBe('owned');
    await page.close();
  });
});

describe('long generations in <img>', () => {
  it('a picture that takes longer than HOLD_MS is shown once ready, through redirects to the same URL', async () => {
    const gpu = gpuStubControl(stub.url);
    const prompt = `a slow lighthouse ${Date.now()}`;
    // At least 3.5 holds: the first request and at least two redirected ones end in a redirect.
    await gpu.setScenario({ prompt, mode: 'slow', delayMs: 3.5 * HOLD_MS });
    const url = `${edge.url}/v1/images?prompt=${encodeURIComponent(prompt)}&width=128&height=96`;

    const page = await browser.newPage({ viewport: { width: 600, height: 400 } });
    const answers: { status: number; location: string | null; cacheControl: string | null }[] = [];
    page.on('response', (response) => {
      if (!response.url().startsWith(`${edge.url}/v1/images`)) return;
      const headers = response.headers();
      const cacheControl = headers['cache-control'] ?? null;
      answers.push({ status: response.status(), location: headers.location ?? null, cacheControl });
    });
    const { shown } = await embed(url, page);
    expect(shown).toEqual({ complete: true, width: 128, height: 96 });

    const redirects = answers.filter((a) => a.status === 307);
    expect(redirects.length).toBeGreaterThanOrEqual(2);
    expect(redirects.length).toBeLessThanOrEqual(20);
    const target = new URL(url);
    for (const redirect of redirects) {
      expect(redirect).toEqual({ status: 307, location: target.pathname + target.search, cacheControl: 'no-store' });
    }
    expect(answers.at(-1)?.status).toBe(200);
    expect(await gpu.calls(prompt)).toHaveLength(1);

    // Stored: the same URL is now an immediate hit.
    const again = await page.evaluate(async (src) => (await fetch(src)).headers.get('Cache-Status'), url);
    expect(again).toMatch(/^dreamurl; hit/);
    await page.screenshot({ path: screenshotPath('img-long-generation') });
    await page.close();
  });
});
