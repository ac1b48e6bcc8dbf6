// Runs one contract case (contract-cases.ts) against a runtime. The runtime supplies only how a
// request reaches its edge under a given environment; everything checked is checked here, the same
// way for workerd and Node. Uses fetch, Web Crypto and vitest's expect only, so it runs in both.
import { expect } from 'vitest';
import { signedImageUrl } from '../../edge/request/url-signature';
import type { BodyExpectation, ContractCase, ContractStep, HeaderExpectation, PictureExpectation } from './contract-cases';
import { CONTRACT_SIGNING_KEY, type ContractEnvironment } from './contract-environments';
import { type GpuStubControl, uniquePrompt } from './gpu-stub-control';

export interface ContractTarget {
  /** Sends `pathAndQuery` to the edge running with the environment's settings. */
  request(env: ContractEnvironment, pathAndQuery: string, init: RequestInit): Promise<Response>;
  readonly gpu: GpuStubControl;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export async function runContractCase(target: ContractTarget, contractCase: ContractCase): Promise<void> {
  const env = contractCase.env ?? 'worker';
  // The edge collapses whitespace in prompts (and the stub records them so), hence the trim.
  const prompt = uniquePrompt(contractCase.name.slice(0, 40).trim());
  if (contractCase.gpu !== undefined) await target.gpu.setScenario({ prompt, ...contractCase.gpu });

  const answers: Answer[] = [];
  for (const [index, step] of contractCase.steps.entries()) {
    const where = `step ${index}: ${step.method ?? 'GET'} ${step.path.slice(0, 120)}`;
    const path = await requestPath(step, prompt, answers);
    const init: RequestInit = {
      method: step.method ?? 'GET',
      headers: Object.fromEntries(Object.entries(step.headers ?? {}).map(([n, v]) => [n, fill(v, prompt, answers)])),
      redirect: 'manual',
    };
    const send = () => (step.follow ? following(target, { env, path, init, where, prompt, ...step.follow }) : target.request(env, path, init));
    const sent = Array.from({ length: step.concurrent ?? 1 }, send);
    const received = await Promise.all(
      sent.map(async (pending): Promise<Answer> => {
        const res = await pending;
        return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
      }),
    );
    for (const answer of received) checkAnswer(step, answer, prompt, answers, where);
    const [first] = received;
    for (const answer of received) expect(answer.bytes, `${where}: concurrent answers differ`).toEqual(first!.bytes);
    answers.push(first!);
    if (step.gpuCalls !== undefined) {
      expect(await target.gpu.calls(prompt), `${where}: GPU calls`).toHaveLength(step.gpuCalls);
    }
  }
}

/** What a browser does with a held generation: follows its redirects to the same URL, at most 20. */
interface Following extends NonNullable<ContractStep['follow']> {
  readonly env: ContractEnvironment;
  readonly path: string;
  readonly init: RequestInit;
  readonly where: string;
  readonly prompt: string;
}

async function following(target: ContractTarget, f: Following): Promise<Response> {
  for (let hops = 0; ; hops++) {
    if (hops === f.openGateAfter) await target.gpu.openGate(f.prompt);
    const response = await target.request(f.env, f.path, f.init);
    if (response.status !== 307) {
      expect(hops, `${f.where}: redirects followed`).toBeGreaterThanOrEqual(f.hops.atLeast);
      return response;
    }
    expect(response.headers.get('Location'), `${f.where}: redirect ${hops + 1} leads to the same URL`).toBe(f.path);
    await response.arrayBuffer();
    expect(hops, `${f.where}: redirects followed`).toBeLessThan(20);
  }
}

async function requestPath(step: ContractStep, prompt: string, answers: readonly Answer[]): Promise<string> {
  let path = fill(step.path, prompt, answers);
  if (step.sign) {
    const url = new URL(path, 'http://edge.test');
    const signed = new URL(await signedImageUrl(url.origin, [...url.searchParams], CONTRACT_SIGNING_KEY));
    path = signed.pathname + signed.search;
  }
  if (step.tamper !== undefined) {
    const tampered = path.replace(new RegExp(step.tamper[0]), step.tamper[1]);
    expect(tampered, `tamper ${step.tamper[0]} changed nothing`).not.toBe(path);
    path = tampered;
  }
  return path;
}

function checkAnswer(step: ContractStep, answer: Answer, prompt: string, answers: readonly Answer[], where: string): void {
  const body = new TextDecoder().decode(answer.bytes);
  expect(answer.status, `${where}: status (body: ${body.slice(0, 300)})`).toBe(step.status);
  for (const [name, expected] of Object.entries(step.expectHeaders ?? {})) {
    checkHeader(answer.headers.get(name), expected, prompt, answers, `${where}: header ${name}`);
  }
  if (step.body !== undefined) checkBody(step.body, answer, body, answers, where);
}

function checkHeader(actual: string | null, expected: HeaderExpectation, prompt: string, answers: readonly Answer[], label: string): void {
  if (expected === null) return void expect(actual, label).toBeNull();
  if (typeof expected === 'string') return void expect(actual, label).toBe(fill(expected, prompt, answers));
  if ('match' in expected) return void expect(actual, label).toMatch(new RegExp(expected.match));
  const name = label.slice(label.lastIndexOf('header ') + 'header '.length);
  expect(actual, label).toBe(answerAt(answers, expected.sameAs).headers.get(name));
}

function checkBody(expected: BodyExpectation, answer: Answer, text: string, answers: readonly Answer[], where: string): void {
  if ('png' in expected) {
    expect([...answer.bytes.subarray(0, 8)], `${where}: PNG signature`).toEqual(PNG_SIGNATURE);
    const view = new DataView(answer.bytes.buffer, answer.bytes.byteOffset, answer.bytes.byteLength);
    // The IHDR chunk comes first (PNG spec §11.2.2): length, "IHDR", then width and height, big-endian.
    expect({ width: view.getUint32(16), height: view.getUint32(20) }, `${where}: PNG size`).toEqual(expected.png);
    expect(answer.headers.get('Content-Length'), `${where}: Content-Length`).toBe(String(answer.bytes.byteLength));
  } else if ('sameBytesAs' in expected) {
    expect(answer.bytes, `${where}: bytes of step ${expected.sameBytesAs}`).toEqual(answerAt(answers, expected.sameBytesAs).bytes);
  } else if ('problem' in expected) {
    expect(answer.headers.get('Content-Type'), `${where}: problem content type`).toBe('application/problem+json');
    const problem = JSON.parse(text) as { type?: string; status?: number; title?: string; errors?: { param: string }[] };
    expect(problem, `${where}: problem`).toMatchObject({ type: expected.problem, status: answer.status, title: expect.any(String) });
    if (expected.params !== undefined) {
      expect(problem.errors?.map((e) => e.param).sort(), `${where}: errors[].param`).toEqual([...expected.params].sort());
    }
  } else if ('svg' in expected) {
    checkErrorPicture(expected.svg, answer, text, where);
  } else if ('empty' in expected) {
    expect(answer.bytes.byteLength, `${where}: body length`).toBe(0);
  } else {
    expect(text, `${where}: body`).toContain(expected.contains);
  }
}

function checkErrorPicture(expected: PictureExpectation, answer: Answer, text: string, where: string): void {
  expect(answer.headers.get('Content-Type'), `${where}: content type`).toBe('image/svg+xml; charset=utf-8');
  const root = /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="([0-9]+)" height="([0-9]+)" viewBox="0 0 \1 \2"/;
  const size = root.exec(text);
  expect(size, `${where}: SVG root element (${text.slice(0, 200)})`).not.toBeNull();
  expect({ width: Number(size![1]), height: Number(size![2]) }, `${where}: picture size`).toEqual({
    width: expected.width,
    height: expected.height,
  });
  // Inert: escaped text has no "<", so every "<" opens a tag, and every tag and attribute is one of the
  // few a drawing of text needs — no script, no event handler, no link or external reference.
  const tags = [...text.matchAll(/<\/?([^\s/>]+)([^>]*)>/g)];
  const elements = new Set(tags.map((tag) => tag[1]));
  expect(elements, `${where}: SVG elements`).toEqual(new Set(['svg', 'title', 'rect', 'g', 'text']));
  const attributes = new Set(tags.flatMap((tag) => [...tag[2]!.matchAll(/\s([^\s=]+)="[^"<]*"/g)].map((a) => a[1])));
  const allowed = ['xmlns', 'width', 'height', 'viewBox', 'role', 'aria-label', 'x', 'y', 'fill', 'stroke'];
  allowed.push('font-family', 'font-size', 'font-weight', 'text-anchor', 'dominant-baseline');
  for (const name of attributes) expect(allowed, `${where}: SVG attribute ${name}`).toContain(name);
  expect(text.split('<').length - 1, `${where}: every "<" opens a tag`).toBe(tags.length);
  for (const part of expected.texts) expect(text, `${where}: SVG text`).toContain(part);
  for (const part of expected.lacks ?? []) expect(text, `${where}: SVG text`).not.toContain(part);
}

/** Fills in <prompt> and <sN.…> (see contract-cases.ts). */
function fill(template: string, prompt: string, answers: readonly Answer[]): string {
  return template.replace(/<(prompt|s(\d+)\.([a-z]+)(?:\.([a-z_]+))?)>/g, (whole, _all, step?: string, field?: string, param?: string) => {
    if (whole === '<prompt>') return encodeURIComponent(prompt);
    const answer = answerAt(answers, Number(step));
    const etag = answer.headers.get('ETag') ?? '';
    const redirect = answer.headers.get('Location') ?? '';
    switch (field) {
      case 'etag':
        return etag;
      case 'key':
        return etag.slice(1, -1);
      case 'seed':
        return answer.headers.get('X-Seed') ?? '';
      case 'location':
        return answer.headers.get('Content-Location') ?? '';
      case 'redirect':
        return param === undefined ? redirect : (new URL(redirect, 'http://edge.test').searchParams.get(param) ?? '');
      default:
        throw new Error(`unknown placeholder ${whole}`);
    }
  });
}

function answerAt(answers: readonly Answer[], index: number): Answer {
  const answer = answers[index];
  if (answer === undefined) throw new Error(`step ${index} has not been answered yet`);
  return answer;
}
