// A Worker deployed with a broken setting answers every request with a 500 problem that reveals no
// value, instead of crashing with the runtime's error page. (Its own file: the Worker keeps its
// parsed app per isolate, and each test file runs in a fresh one.)
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import worker from '../../edge/worker';

it('answers 500 problem+json when the configuration does not parse', async () => {
  const broken = { ...env, MODELS: '[]', URL_SIGNING_KEY: 'do-not-leak-me' } as unknown as Env;
  const res = await worker.fetch(new Request('http://edge.test/v1/images?prompt=a'), broken, createExecutionContext());
  expect(res.status).toBe(500);
  expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  const text = await res.text();
  expect(JSON.parse(text)).toMatchObject({ status: 500, detail: 'The service is misconfigured.' });
  expect(text).not.toContain('do-not-leak-me');
  expect(text).not.toContain('MODELS');
});
