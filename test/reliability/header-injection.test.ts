// No header injection through any parameter, on both edges over real sockets: the Node edge
// (@hono/node-server) and the Worker in a real workerd (bundled as `wrangler deploy` ships it). CR,
// LF and NUL — percent-encoded, double-encoded, hidden in UTF-8 (U+560A U+560D end in 0x0A 0x0D), or
// raw in the request line — go into the value of every parameter and into a parameter's name, in
// requests that are refused (400), unsigned (403), signed (200, generated) and `seed=random` (302,
// whose Location repeats the parameters). Whatever comes back, every header line is one well-formed
// field, no `X-Injected` field appears, and nothing is a 5xx. Raw CR/LF/NUL in the request line is
// the client breaking its own request: the HTTP server refuses it (400), closes, or ends the request
// line at the line break (the rest then becomes a header of that same request); no response header
// may carry it either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeEdge } from '../../edge/node/node-edge';
import { signParams } from '../../edge/request/url-signature';
import { CONTRACT_SIGNING_KEY, contractVars } from '../contract/contract-environments';
import { type NodeStack, startNodeStack } from '../edge-node/support/node-stack';
import { type RawAnswer, rawRequest } from '../support/raw-http';
import { startWorkerdEdge, type WorkerdEdge } from '../support/workerd-edge';

const PARAMS = ['prompt', 'negative_prompt', 'seed', 'steps', 'guidance', 'width', 'height', 'scheduler', 'model', 'sig'] as const;
const VALID: Record<(typeof PARAMS)[number], string> = {
  prompt: 'a',
  negative_prompt: 'b',
  seed: '7',
  steps: '2',
  guidance: '7.5',
  width: '64',
  height: '64',
  scheduler: 'pndm',
  model: 'tiny-sd',
  sig: '',
};
const INJECTED = 'X-Injected: yes';
/** Appended to a parameter's value (or name), as it appears in the request target. */
const ENCODED_PAYLOADS = [
  '%0D%0AX-Injected:%20yes',
  '%0AX-Injected:%20yes',
  '%0DX-Injected:%20yes',
  '%00X-Injected:%20yes',
  '%0D%0A%0D%0A<html>',
  '%250D%250AX-Injected:%20yes',
  '%E5%98%8A%E5%98%8DX-Injected:%20yes', // 嘊嘍: UTF-8 E5 98 8A, E5 98 8D
  '%C0%8D%C0%8AX-Injected:%20yes', // overlong encodings of CR LF
];
const RAW_PAYLOADS = ['\r\nX-Injected: yes', '\nX-Injected: yes', '\rX-Injected: yes', '\0X-Injected: yes'];
/** RFC 9110 §5.1 field-name ":" field-value without CR, LF or NUL. */
const FIELD_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n\0]*$/;

let stack: NodeStack;
let node: NodeEdge;
let workerd: WorkerdEdge;
const targets: { name: string; url: () => string }[] = [
  { name: 'Node edge', url: () => node.url },
  { name: 'workerd edge', url: () => workerd.url },
];

beforeAll(async () => {
  stack = await startNodeStack();
  const vars = { URL_SIGNING_KEY: CONTRACT_SIGNING_KEY };
  node = await stack.edge(vars);
  workerd = await startWorkerdEdge({ vars: { ...contractVars(stack.stub.url), ...vars } });
}, 120_000);
afterAll(async () => {
  await workerd?.close();
  await stack?.close();
});

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** The request target for params given as already-encoded text, optionally signed over their decoded values. */
async function target(params: readonly (readonly [string, string])[], sign: boolean): Promise<string> {
  const pairs = params.filter(([name]) => name !== 'sig' || !sign);
  if (sign) {
    const decoded = pairs.map(([n, v]) => [decode(n), decode(v)] as const);
    if (decoded.every(([n, v]) => n !== undefined && v !== undefined)) {
      pairs.push(['sig', await signParams(CONTRACT_SIGNING_KEY, decoded as [string, string][])]);
    }
  }
  return `/v1/images?${pairs.map(([n, v]) => `${n}=${v}`).join('&')}`;
}

function expectNoInjection(answer: RawAnswer, what: string): void {
  expect(answer.status, what).toBeDefined();
  expect(answer.status!, what).toBeLessThan(500);
  for (const line of answer.headerLines) {
    expect(line, what).toMatch(FIELD_LINE);
    expect(line.toLowerCase(), what).not.toMatch(/^x-injected/);
  }
}

/** Every way to smuggle the payload in through one parameter's value or name. */
function cases(): { what: string; params: [string, string][]; sign: boolean }[] {
  const list: { what: string; params: [string, string][]; sign: boolean }[] = [];
  const prompt = `injection ${crypto.randomUUID()}`.replaceAll(' ', '%20');
  for (const payload of ENCODED_PAYLOADS) {
    for (const param of PARAMS) {
      for (const sign of [false, true]) {
        const params: [string, string][] = [['prompt', prompt], ['seed', '7']];
        const value = `${VALID[param]}${payload}`;
        const existing = params.find(([n]) => n === param);
        if (existing !== undefined) existing[1] = param === 'prompt' ? `${prompt}${payload}` : value;
        else params.push([param, value]);
        list.push({ what: `${param}=…${payload}${sign ? ' (signed)' : ''}`, params, sign });
        if (param === 'prompt' || param === 'negative_prompt') {
          // seed=random answers 302 with a Location built from the parameters.
          list.push({ what: `${param}=…${payload}&seed=random (signed)`, params: params.map(([n, v]): [string, string] => [n, n === 'seed' ? 'random' : v]), sign: true });
        }
      }
    }
    list.push({ what: `a name ending in ${payload}`, params: [['prompt', prompt], [`x${payload}`, '1']], sign: false });
  }
  return list;
}

describe.each(targets)('$name', ({ url }) => {
  it('never lets CR, LF or NUL from a parameter (percent-encoded) into a response header', async () => {
    const statuses = new Map<number, number>();
    for (const { what, params, sign } of cases()) {
      const path = await target(params, sign);
      for (const method of ['GET', 'HEAD']) {
        const answer = await rawRequest(url(), method, path);
        expectNoInjection(answer, `${method} ${what}: ${path}`);
        statuses.set(answer.status!, (statuses.get(answer.status!) ?? 0) + 1);
      }
    }
    // The cases reached every kind of answer that carries headers built from the request.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 302, 400, 403]));
  }, 120_000);

  it('lets raw CR, LF or NUL in the request line reach no response header, in any parameter', async () => {
    const outcomes = new Map<string, number>();
    for (const payload of RAW_PAYLOADS) {
      for (const param of PARAMS) {
        for (const method of ['GET', 'HEAD']) {
          const path = `/v1/images?prompt=a&${param}=${VALID[param]}${payload}`;
          const answer = await rawRequest(url(), method, path);
          const what = `${method} ${JSON.stringify(path)}`;
          if (answer.status !== undefined) expectNoInjection(answer, what);
          expect(answer.headerLines.join('\n'), what).not.toContain(INJECTED);
          const outcome = `${JSON.stringify(payload.slice(0, 2))} → ${answer.status ?? 'closed'}`;
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }
      }
    }
    console.log(`raw CR/LF/NUL in the request line: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  }, 120_000);
});
