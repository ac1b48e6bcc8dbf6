// The demo page's progress bar in real Chromium: wrangler dev (the Worker, its generation Durable Object)
// in front of the GPU stub speaking the GPU function's progress stream slowly (a queue of one, then 8
// steps over a few seconds), so every state of the bar is seen: waiting, the queue position, each step
// with the time left, then the picture and no bar. The screenshot of a bar mid-way is the one in
// docs/demo-progress.png (copied from test-results/browser/ by hand when the page changes).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../contract';
import { gpuStubControl } from '../contract/gpu-stub-control';
import { type GpuStub, startGpuStub } from '../support/gpu-stub-server';
import { launchChromium, screenshotPath } from '../support/stack-browser';
import { startStackEdge, type StackEdge } from '../support/stack-processes';

const STUB_MODEL: ModelInfo = {
  model: 'tiny-sd@local-progress-stub',
  id: 'tiny-sd',
  revision: 'local-progress-stub',
  defaults: { steps: 8, guidance: 7.5, scheduler: 'euler', width: 128, height: 128 },
  limits: { min_side: 16, max_side: 512, side_multiple: 16, max_steps: 50 },
};
const TOKEN = 'progress-stub-token';

let stub: GpuStub;
let edge: StackEdge;
let browser: Browser;

beforeAll(async () => {
  stub = await startGpuStub({ model: STUB_MODEL.model, token: TOKEN });
  [edge, browser] = await Promise.all([startStackEdge({ url: stub.url, token: TOKEN, info: STUB_MODEL }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await edge?.stop();
  await stub?.close();
});

/**
 * Every text the progress line shows, with the bar's value and max then, recorded by the page itself
 * so none is missed however fast.
 */
async function recordProgress(page: Page): Promise<void> {
  await page.$eval('#progress-text', (line) => {
    const view = line.ownerDocument.defaultView;
    const bar = line.ownerDocument.getElementById('progress-bar');
    const seen: string[] = [];
    view.progressTexts = seen;
    const record = () => seen.push(`${line.textContent ?? ''} [${bar.hasAttribute('value') ? bar.value : '-'}/${bar.max}]`);
    new view.MutationObserver(record).observe(line, { childList: true, characterData: true, subtree: true });
  });
}

describe('the demo page shows the generation’s progress', () => {
  it('a bar with the queue position, then each step and the time left, then the picture', async () => {
    const prompt = `a lighthouse, step by step ${Date.now()}`;
    await gpuStubControl(stub.url).setScenario({ prompt, mode: 'progress', delayMs: 4000 });
    const page = await browser.newPage({ viewport: { width: 800, height: 560 } });
    await page.goto(`${edge.url}/`);
    await recordProgress(page);
    await page.fill('#prompt', prompt);
    await page.click('#generate');

    await page.waitForSelector('#progress:not([hidden]) #progress-text:text("Step 4 of 8")');
    await page.screenshot({ path: screenshotPath('demo-progress') });

    await page.waitForSelector('#result:not([hidden])');
    expect(await page.$eval('#picture', async (img) => (await img.decode(), [img.naturalWidth, img.naturalHeight]))).toEqual([128, 128]);
    await page.waitForSelector('#progress', { state: 'hidden' });
    const texts: string[] = await page.$eval('#progress-text', (line) => line.ownerDocument.defaultView.progressTexts);
    const distinct = texts.filter((text, i) => text !== texts[i - 1]);
    // Waiting and queued: the bar has no value (indeterminate).
    expect(distinct[0]).toBe('Waiting for the generation to start… [-/1]');
    expect(distinct).toContain('Queued: 1 ahead in the queue… [-/1]');
    expect(distinct).toContain('Queued: next in the queue… [-/1]');
    const steps = distinct.filter((text) => text.startsWith('Step '));
    const stepPattern = /^Step (\d) of 8 · (?:about \d+ s left|about a second left|finishing) \[(\d)\/8\]$/;
    expect(steps.map((text) => stepPattern.exec(text)?.slice(1, 3))).toEqual(
      ['1', '2', '3', '4', '5', '6', '7', '8'].map((step) => [step, step]),
    );
    expect(steps.at(-1)).toBe('Step 8 of 8 · finishing [8/8]');
    expect(await gpuStubControl(stub.url).calls(prompt)).toHaveLength(1);
    await page.close();
  });
});
