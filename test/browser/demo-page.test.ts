// The demo page in real Chromium, against the real stack (wrangler dev + the GPU function on tiny-sd):
// type a prompt, press Generate, watch it say "generating…", get a decoded picture, an embed snippet
// that really serves it, readable errors, a phone-width layout and a keyboard path. Screenshots are
// saved under test-results/browser/.
//
// The project type-checks against Node's library, not the DOM's, so code that runs in the page works on
// the elements playwright hands it ($eval) rather than on `document` and `window`.
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath } from '../support/stack-browser';
import { fetchAnswer } from '../support/stack-http';
import { startStackEdge, startStackGpu, type StackEdge, type StackGpu } from '../support/stack-processes';

interface ButtonState {
  readonly text: string;
  readonly disabled: boolean;
}

let gpu: StackGpu;
let edge: StackEdge;
let browser: Browser;
let context: BrowserContext | undefined;

beforeAll(async () => {
  gpu = await startStackGpu();
  [edge, browser] = await Promise.all([startStackEdge(gpu), launchChromium()]);
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
  await edge?.stop();
  await gpu?.close();
});

/** A fresh browser profile (empty localStorage) with the page open. */
async function openPage(origin: string, viewport = { width: 1024, height: 900 }): Promise<Page> {
  context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  // Every state the Generate button goes through, recorded by the page itself, so a short
  // "generating…" is seen however fast the picture comes.
  await page.$eval('#generate', (button) => {
    const states: ButtonState[] = [];
    const view = button.ownerDocument.defaultView;
    view.buttonStates = states;
    new view.MutationObserver(() => states.push({ text: button.textContent ?? '', disabled: button.disabled })).observe(button, {
      attributes: true,
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  return page;
}

async function buttonStates(page: Page): Promise<ButtonState[]> {
  return page.$eval('#generate', (button): ButtonState[] => button.ownerDocument.defaultView.buttonStates);
}

/** Resolves once the result is shown and its picture decoded; returns the picture's natural size. */
async function pictureShown(page: Page): Promise<{ width: number; height: number }> {
  await page.waitForSelector('#result:not([hidden])');
  return page.$eval('#picture', async (img) => {
    await img.decode(); // rejects if the picture cannot be decoded
    return { width: img.naturalWidth, height: img.naturalHeight };
  });
}

/** Resolves once the status line shows an error. */
async function errorShown(page: Page): Promise<void> {
  await page.waitForSelector('#status.error');
}

async function statusLine(page: Page): Promise<{ text: string; isError: boolean }> {
  return page.$eval('#status', (el) => ({ text: el.textContent ?? '', isError: el.classList.contains('error') }));
}

/** The `src` of the `<img>` snippet, unescaped. */
function snippetSource(snippet: string): string {
  const match = /^<img src="([^"]+)" alt="[^"]*">$/.exec(snippet);
  expect(match, snippet).not.toBeNull();
  return match![1]!.replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

describe('the demo page', () => {
  it('type a prompt, press Generate: "generating…", then the picture, the snippet and the content URL', async () => {
    const page = await openPage(edge.url);
    const prompt = 'a lighthouse at dusk, oil painting';
    await page.fill('#prompt', prompt);
    await page.click('#generate');

    expect(await pictureShown(page)).toEqual({ width: 64, height: 64 });
    const states = await buttonStates(page);
    expect(states).toContainEqual({ text: 'generating…', disabled: true });
    expect(await page.$eval('#generate', (b) => ({ text: b.textContent, disabled: b.disabled }))).toEqual({
      text: 'Generate',
      disabled: false,
    });
    expect(await statusLine(page)).toEqual({ text: 'Done.', isError: false });
    expect(await page.$eval('#picture', (img) => img.getAttribute('alt'))).toBe(prompt);

    // The snippet embeds the picture's URL, and that URL really serves it (now from storage).
    const snippet = await page.inputValue('#snippet');
    expect(snippet).toBe(`<img src="${edge.url}/v1/images?prompt=a+lighthouse+at+dusk%2C+oil+painting" alt="${prompt}">`);
    const embedded = await fetchAnswer(snippetSource(snippet));
    expect(embedded.status).toBe(200);
    expect(embedded.headers.get('Cache-Status')).toMatch(/^dreamurl; hit/);
    const contentUrl: string = await page.$eval('#content-url', (a) => a.href);
    expect(contentUrl).toMatch(new RegExp(`^${edge.url}/v1/images/[0-9a-f]{64}\\.png$`));
    expect((await fetchAnswer(contentUrl)).bytes).toEqual(embedded.bytes);

    // Remembered among this browser's recent pictures, loaded from its content URL.
    await page.waitForSelector('#recent-section:not([hidden]) #recent img');
    expect(await page.$eval('#recent img', async (img) => (await img.decode(), img.naturalWidth))).toBe(64);
    expect(await page.$$eval('#recent img', (imgs) => imgs.map((img) => img.src))).toEqual([contentUrl]);

    await page.screenshot({ path: screenshotPath('demo-page'), fullPage: true });

    // Copy puts the snippet on the clipboard.
    await context!.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: edge.url });
    await page.click('#copy');
    await page.waitForSelector('#status:text("Snippet copied.")');
    expect(await page.$eval('#snippet', (field) => field.ownerDocument.defaultView.navigator.clipboard.readText())).toBe(snippet);
  });

  it('a bad option is explained in words, naming the parameter, and the button comes back', async () => {
    const page = await openPage(edge.url);
    await page.fill('#prompt', 'a lighthouse');
    await page.click('#options summary');
    await page.fill('#steps', 'abc');
    await page.click('#generate');

    await errorShown(page);
    const status = await statusLine(page);
    expect(status.text).toMatch(/^Check your input — steps: /);
    expect(await page.$eval('#generate', (b) => b.disabled)).toBe(false);
    expect(await page.$eval('#result', (el) => el.hidden)).toBe(true);
    await page.screenshot({ path: screenshotPath('demo-page-bad-input'), fullPage: true });
  });

  it('works from the keyboard: Tab into the prompt, Enter generates; Tab reaches Generate, Enter generates', async () => {
    const page = await openPage(edge.url);
    await page.keyboard.press('Tab');
    expect(await page.$eval(':focus', (el) => el.id)).toBe('prompt');
    await page.keyboard.type('a harbour from the keyboard');
    await page.keyboard.press('Enter');
    await pictureShown(page);
    const first = await page.inputValue('#snippet');
    expect(first).toContain('prompt=a+harbour+from+the+keyboard"');

    await page.focus('#prompt');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('a second harbour');
    await page.keyboard.press('Tab'); // the Options disclosure
    await page.keyboard.press('Tab');
    expect(await page.$eval(':focus', (el) => el.id)).toBe('generate');
    await page.keyboard.press('Enter');
    const snippetField = await page.$('#snippet');
    await page.waitForFunction(([field, previous]) => field.value !== previous, [snippetField, first] as const);
    await pictureShown(page);
    expect(await page.inputValue('#snippet')).toContain('prompt=a+second+harbour"');
  });

  it('fits a phone-width screen (390 px): no horizontal scrolling, before and after a picture', async () => {
    const page = await openPage(edge.url, { width: 390, height: 844 });
    const overflow = (): Promise<number> => page.$eval('html', (html) => html.scrollWidth - html.clientWidth);
    expect(await overflow()).toBe(0);
    await page.fill('#prompt', 'a lighthouse on a phone screen, with a long prompt that wraps over several lines of text');
    await page.click('#options summary');
    await page.click('#generate');
    await pictureShown(page);
    expect(await overflow()).toBe(0);
    const button = await page.$eval('#generate', (b) => b.getBoundingClientRect().right);
    expect(button).toBeLessThanOrEqual(390);
    await page.screenshot({ path: screenshotPath('demo-page-phone'), fullPage: true });
  });
});

describe('the API reference', () => {
  it('GET /openapi.json of the running edge is valid OpenAPI 3.1', async () => {
    const response = await fetch(`${edge.url}/openapi.json`);
    expect(response.headers.get('Content-Type')).toBe('application/json');
    const validator = new Validator();
    const result = await validator.validate((await response.json()) as Record<string, unknown>);
    expect([result.valid, validator.version, result.errors]).toEqual([true, '3.1', undefined]);
  });

  it('renders /docs in Chromium: every operation with its parameters and answers, and the models', async () => {
    context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    const response = await page.goto(`${edge.url}/docs`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('dreamurl — API reference');
    const headings = await page.$$eval('main h2', (hs) => hs.map((h) => h.textContent ?? ''));
    expect(headings).toEqual(expect.arrayContaining(['GET /v1/images', 'HEAD /v1/images', 'GET /v1/images/{key}.png', 'Models']));
    const parameters = await page.$$eval('#get-v1-images tbody th code', (cells) => cells.map((c) => c.textContent ?? ''));
    expect(parameters.slice(0, 10)).toEqual(['prompt', 'negative_prompt', 'seed', 'steps', 'guidance', 'width', 'height', 'scheduler', 'model', 'sig']);
    // The stylesheet applied (a table cell has the padding demo.css gives it), and nothing failed.
    expect(await page.$eval('#get-v1-images td', (td) => td.ownerDocument.defaultView.getComputedStyle(td).paddingTop)).not.toBe('0px');
    expect(errors).toEqual([]);
    await page.screenshot({ path: screenshotPath('api-reference'), fullPage: true });
  });
});

describe('the demo page under a rate limit', () => {
  let limited: StackEdge;
  beforeAll(async () => {
    limited = await startStackEdge(gpu, { vars: { RATE_LIMIT_PER_MINUTE: '1' } });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('says the limit was reached and when to try again', async () => {
    const page = await openPage(limited.url);
    await page.fill('#prompt', 'the one picture this minute');
    await page.click('#generate');
    await pictureShown(page);

    await page.fill('#prompt', 'one too many');
    await page.click('#generate');
    await errorShown(page);
    expect((await statusLine(page)).text).toMatch(/^Rate limit reached: too many new pictures for now\. Try again in [1-9]\d* seconds?\.$/);
  });
});
