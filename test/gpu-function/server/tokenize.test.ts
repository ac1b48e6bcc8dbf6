// POST /v1/tokenize answers what the text encoder is fed, over HTTP, for every prompt of the CLIP
// reference table (test/fixtures/clip-tokenizer/cases.json: ids from openai/CLIP's simple_tokenizer,
// input_ids = [49406] + ids[:75] + [49407], padded with 49407 to 77).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tokenizeResponseSchema } from '../../../contract';
import { type InProcessService, postJson, ROOT, startReady } from '../../support/gpu-function-service';

interface Case {
  readonly prompt: string;
  readonly ids: readonly number[];
  readonly input_ids: readonly number[];
}

const cases: Case[] = JSON.parse(await readFile(join(ROOT, 'test/fixtures/clip-tokenizer/cases.json'), 'utf8'));

let gpu: InProcessService;
beforeAll(async () => {
  gpu = await startReady();
});
afterAll(() => gpu.close());

it('the table has a prompt that is truncated and many that are not', () => {
  expect(cases.filter((c) => c.ids.length > 75).length).toBeGreaterThan(0);
  expect(cases.filter((c) => c.ids.length <= 75).length).toBeGreaterThan(30);
});

it.each(cases.map((c) => [c.prompt.slice(0, 60), c] as const))('tokenizes %j as CLIP does', async (_name, c) => {
  const response = await postJson(`${gpu.url}/v1/tokenize`, { prompt: c.prompt });
  expect(response.status).toBe(200);
  expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
  const body = tokenizeResponseSchema.parse(await response.json());
  expect(body).toEqual({ input_ids: c.input_ids, token_count: c.ids.length, truncated: c.ids.length > 75 });
});

it('tokenizes the empty prompt to start, end and padding', async () => {
  const body = tokenizeResponseSchema.parse(await (await postJson(`${gpu.url}/v1/tokenize`, { prompt: '' })).json());
  expect(body).toEqual({ input_ids: [49406, ...Array<number>(76).fill(49407)], token_count: 0, truncated: false });
});
