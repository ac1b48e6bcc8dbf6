// Whatever a client puts in the URL, a bad query is a 400 problem naming each bad parameter, never
// a guess and never a 5xx. Sent through the deployed Worker's own fetch handler (edge/worker.ts).
import { exports } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { problemSchema } from '../../../contract';

const LONG = 'a'.repeat(1001);

// [what, query string, the parameter the error must name]
const badQueries: [string, string, string][] = [
  ['no query at all', '', 'prompt'],
  ['no prompt', 'steps=4', 'prompt'],
  ['an empty prompt', 'prompt=', 'prompt'],
  ['a prompt of only spaces', 'prompt=+%20%E3%80%80+', 'prompt'],
  ['a prompt over 1000 characters', `prompt=${LONG}`, 'prompt'],
  ['a NUL in the prompt', 'prompt=a%00b', 'prompt'],
  ['CRLF in the prompt', 'prompt=a%0D%0AX-Injected:+1', 'prompt'],
  ['a tab in the prompt', 'prompt=a%09b', 'prompt'],
  ['a C1 control in the prompt', 'prompt=a%C2%85b', 'prompt'],
  ['a malformed percent escape', 'prompt=100%25+a%zz', 'prompt'],
  ['a cut-off percent escape', 'prompt=a%E2%82', 'prompt'],
  ['invalid UTF-8', 'prompt=%C3%28', 'prompt'],
  ['an encoded lone surrogate', 'prompt=%ED%A0%80', 'prompt'],
  ['a bad escape in a name', 'prompt=a&st%zzeps=4', 'query'],
  ['a duplicated prompt', 'prompt=a&prompt=b', 'prompt'],
  ['a duplicated parameter with equal values', 'prompt=a&steps=4&steps=4', 'steps'],
  ['a duplicated seed', 'prompt=a&seed=random&seed=1', 'seed'],
  ['steps=NaN', 'prompt=a&steps=NaN', 'steps'],
  ['fractional steps', 'prompt=a&steps=1.5', 'steps'],
  ['fractional steps, percent-encoded', 'prompt=a&steps=%31%2E%35', 'steps'],
  ['steps in exponent notation', 'prompt=a&steps=1e1', 'steps'],
  ['steps=abc', 'prompt=a&steps=abc', 'steps'],
  ['empty steps', 'prompt=a&steps=', 'steps'],
  ['steps with a sign', 'prompt=a&steps=+4', 'steps'],
  ['zero steps', 'prompt=a&steps=0', 'steps'],
  ['negative steps', 'prompt=a&steps=-5', 'steps'],
  ['a huge number of steps', 'prompt=a&steps=99999999999999999999999', 'steps'],
  ['steps over the model limit', 'prompt=a&steps=51', 'steps'],
  ['guidance=1e400', 'prompt=a&guidance=1e400', 'guidance'],
  ['guidance=NaN', 'prompt=a&guidance=NaN', 'guidance'],
  ['guidance=Infinity', 'prompt=a&guidance=Infinity', 'guidance'],
  ['negative guidance', 'prompt=a&guidance=-1', 'guidance'],
  ['guidance over 30', 'prompt=a&guidance=30.5', 'guidance'],
  ['guidance with a decimal comma', 'prompt=a&guidance=7,5', 'guidance'],
  ['guidance in hex', 'prompt=a&guidance=0x7', 'guidance'],
  ['a negative seed', 'prompt=a&seed=-1', 'seed'],
  ['a seed over 2^32-1', 'prompt=a&seed=4294967296', 'seed'],
  ['a fractional seed', 'prompt=a&seed=1.0', 'seed'],
  ['seed=Random', 'prompt=a&seed=Random', 'seed'],
  ['a width that is not a multiple of 8', 'prompt=a&width=65', 'width'],
  ['a width under the model minimum', 'prompt=a&width=16', 'width'],
  ['a width over the model maximum', 'prompt=a&width=264', 'width'],
  ['a height over the absolute maximum', 'prompt=a&height=4096', 'height'],
  ['a huge height', 'prompt=a&height=1e9', 'height'],
  ['a size allowed for the default model but not for the chosen one', 'prompt=a&model=other&width=72', 'width'],
  ['steps allowed for the default model but not for the chosen one', 'prompt=a&model=other&steps=21', 'steps'],
  ['an unknown scheduler', 'prompt=a&scheduler=karras', 'scheduler'],
  ['a scheduler in upper case', 'prompt=a&scheduler=PNDM', 'scheduler'],
  ['an unknown model', 'prompt=a&model=sdxl', 'model'],
  ['an empty model', 'prompt=a&model=', 'model'],
  ['an unknown parameter', 'prompt=a&style=vivid', 'style'],
  ['a parameter name in another case', 'prompt=a&Steps=4', 'Steps'],
  ['__proto__', 'prompt=a&__proto__=x', '__proto__'],
  ['a control character in the negative prompt', 'prompt=a&negative_prompt=b%00', 'negative_prompt'],
  ['a negative prompt over 1000 characters', `prompt=a&negative_prompt=${LONG}`, 'negative_prompt'],
  ['an over-long sig', `prompt=a&sig=${'A'.repeat(300)}`, 'sig'],
];

async function get(query: string, method = 'GET'): Promise<Response> {
  return exports.default.fetch(`http://edge.test/v1/images?${query}`, { method });
}

describe('bad queries', () => {
  it('has a table of at least 30 cases', () => {
    expect(badQueries.length).toBeGreaterThanOrEqual(30);
  });

  it.each(badQueries.map(([label, query, param]) => ({ label, query, param })))('$label → 400 naming $param', async ({ query, param }) => {
    const res = await get(query);
    expect(res.status).toBe(400);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    const problem = problemSchema.parse(await res.json());
    expect(problem).toMatchObject({ status: 400, type: 'urn:dreamurl:problem:invalid-parameters' });
    expect(problem.errors?.map((e) => e.param)).toContain(param);
    for (const error of problem.errors ?? []) expect(error.message.length).toBeGreaterThan(0);
  });

  it('lists every bad parameter at once', async () => {
    const problem = problemSchema.parse(await (await get('prompt=&steps=x&guidance=y&color=red')).json());
    expect(problem.errors?.map((e) => e.param).sort()).toEqual(['color', 'guidance', 'prompt', 'steps']);
  });

  it.each([
    ['steps=abc', 'must be a whole number written in digits'],
    ['steps=151', 'must be at most 150'],
    ['steps=51', 'must be at most 50 for this model'],
    ['guidance=1e400', 'must be a decimal number written like 7.5'],
    ['width=65', 'must be a multiple of 8'],
    ['scheduler=karras', 'must be one of pndm, ddim, euler, euler_a, dpmpp_2m, lcm'],
    ['model=sdxl', 'must be one of tiny-sd, other'],
    ['style=vivid', 'is not a parameter of this API'],
  ])('explains %s: %j', async (query, message) => {
    const problem = problemSchema.parse(await (await get(`prompt=a&${query}`)).json());
    expect(problem.errors?.map((e) => e.message)).toEqual([message]);
  });

  it('answers HEAD with the same 400 status', async () => {
    expect((await get('prompt=a&steps=1.5', 'HEAD')).status).toBe(400);
  });

  it('never answers 5xx, whatever the query (property)', async () => {
    const names = fc.constantFrom('prompt', 'negative_prompt', 'seed', 'steps', 'guidance', 'width', 'height', 'scheduler', 'model', 'sig', 'x');
    const values = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
      fc.string({ maxLength: 20 }), // raw, possibly with % and & and =
      fc.constantFrom('%', '%%', '%G1', '%00', '%FF', '1e400', 'NaN', '-0', '00000000000000000000001', '7.', '.5', 'random'),
      fc.integer({ min: -1e6, max: 1e10 }).map(String),
    );
    const queries = fc.array(fc.tuple(names, values), { maxLength: 6 }).map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('&'));
    await fc.assert(
      fc.asyncProperty(queries, async (query) => {
        const res = await exports.default.fetch(`http://edge.test/v1/images?${query}`, { method: 'HEAD' });
        return res.status < 500;
      }),
      { numRuns: 100 },
    );
  }, 30_000);
});

describe('request target length', () => {
  it('answers 414 for a request target over 16 KiB', async () => {
    const res = await get(`prompt=${'a'.repeat(20_000)}`);
    expect(res.status).toBe(414);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(problemSchema.parse(await res.json()).status).toBe(414);
  });

  it('still fits a 1000-character CJK prompt, fully percent-encoded (≈ 9 KB)', async () => {
    const res = await get(`prompt=${encodeURIComponent('灯'.repeat(1000))}`, 'HEAD');
    expect(res.status).toBe(200);
  });

  it('answers a too-long prompt inside the limit with 400, not 414', async () => {
    expect((await get(`prompt=${'b'.repeat(5000)}`)).status).toBe(400);
  });
});
