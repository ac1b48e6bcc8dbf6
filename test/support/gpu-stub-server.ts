// A stand-in for the GPU function at its HTTP boundary, for tests that have no GPU (the edge tests
// run it through a vitest globalSetup; fault-injection tests reuse it). A real HTTP server on
// loopback that speaks `POST /v1/generate` like the GPU function (contract.ts) and misbehaves on
// request, per prompt, so test files running in parallel do not disturb each other:
//
//   PUT    /__scenarios            {prompt, mode, status?, retryAfter?, delayMs?, times?, model?}
//   DELETE /__scenarios?prompt=…   back to "ok"
//   GET    /__calls?prompt=…       {count, calls: [{body, authorization, model}]}
//   POST   /__gates?prompt=…       opens the prompt's gate: `gated` calls waiting on it answer
//
// Modes (see Scenario): ok, slow, status, not_png, truncated, corrupt, drop, wrong_size, wrong_model,
// wrong_seed, no_model, no_seed, trickle, hang, gated, progress. A scenario applies to the next `times`
// calls (all when absent). `progress` answers a call that accepts `text/event-stream` with the GPU
// function's progress stream (contract/progress-stream.ts): `queued` 1 and 0, each step, then the
// picture, over `delayMs` in all; other calls as `slow`.
// `POST /as/<model>/v1/generate` answers as `<model>` (`<id>@<revision>`, URL-encoded), so one stub
// can play several model profiles. Faults that are not per prompt: `defaultScenario` (how prompts
// without a scenario are answered, e.g. a slow GPU for every miss of a load test), and
// refuseConnections() / acceptConnections(), which stop and restart listening on the same port (a GPU
// function that is down, then back). Run alone: `tsx test/support/gpu-stub-server.ts --port 8788`
// (`--delay-ms N`: every answer takes N ms).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import {
  EVENT_STREAM_CONTENT_TYPE,
  formatProgressEvent,
  type GenerateRequest,
  generateRequestSchema,
  HEADERS,
  PROBLEM_CONTENT_TYPE,
  type ProgressEvent,
} from '../../contract';

export const GPU_STUB_MODES = [
  'ok', 'slow', 'status', 'not_png', 'truncated', 'corrupt', 'drop', 'wrong_size', 'wrong_model', 'wrong_seed',
  'no_model', 'no_seed', 'trickle', 'hang', 'gated', 'progress',
] as const;
export type GpuStubMode = (typeof GPU_STUB_MODES)[number];

export interface Scenario {
  readonly prompt: string;
  readonly mode: GpuStubMode;
  /** `status`: the status to answer (default 500). */
  readonly status?: number;
  /** `status`: a Retry-After value to send with it. */
  readonly retryAfter?: number;
  /** `status`: the problem's `type` and `detail` (default `about:blank`, "injected failure"). */
  readonly problemType?: string;
  readonly detail?: string;
  /** `slow`, `progress`: delay before a valid answer; `trickle`: pause between body bytes (default 200 ms). */
  readonly delayMs?: number;
  /** How many calls the scenario applies to; after that the prompt is answered normally. */
  readonly times?: number;
  /** `wrong_model`: the X-Model to send (default `someone/else@0000000`). */
  readonly model?: string;
}

export interface GpuStubCall {
  readonly body: GenerateRequest;
  readonly authorization: string | null;
  /** X-Request-Timeout-Ms as sent: the milliseconds the caller will still wait. */
  readonly requestTimeoutMs: string | null;
  /** The model this call was answered as. */
  readonly model: string;
  /** The Accept header sent (`text/event-stream, …` when the caller asked for the progress stream). */
  readonly accept: string | null;
}

export interface GpuStubOptions {
  readonly host?: string;
  /** 0 (default): a free port. */
  readonly port?: number;
  /** `<id>@<revision>` sent as X-Model by default. */
  readonly model?: string;
  /** When set, /v1 calls need `Authorization: Bearer <token>` (as the GPU function's GPU_FUNCTION_TOKEN). */
  readonly token?: string;
  /** How prompts without a scenario of their own are answered (default: `ok`). */
  readonly defaultScenario?: Omit<Scenario, 'prompt' | 'times'>;
  /** The PNG for a request (default: pictureFor, small flat colours); e.g. SD-sized pictures for a bench. */
  readonly picture?: (request: GenerateRequest, width: number, height: number) => Uint8Array;
}

export interface GpuStub {
  readonly url: string;
  /** Stops listening and cuts open connections: connecting now fails (ECONNREFUSED), as to a stopped process. */
  refuseConnections(): Promise<void>;
  /** Listens again on the same port, with the same scenarios and call records. */
  acceptConnections(): Promise<void>;
  close(): Promise<void>;
}

export const GPU_STUB_DEFAULT_MODEL = 'tiny-sd@local-stub';

export async function startGpuStub(options: GpuStubOptions = {}): Promise<GpuStub> {
  const scenarios = new Map<string, { scenario: Scenario; left: number }>();
  const calls = new Map<string, GpuStubCall[]>();
  const sockets = new Set<Socket>();
  const gates = new Map<string, { opened: Promise<void>; open: () => void }>();
  const gateOf = (prompt: string) => {
    let gate = gates.get(prompt);
    if (gate === undefined) {
      let open = () => {};
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { opened, open };
      gates.set(prompt, gate);
    }
    return gate;
  };
  const defaultModel = options.model ?? GPU_STUB_DEFAULT_MODEL;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendProblem(res, 500, `stub error: ${String(error)}`);
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const body = await readText(req);
    if (url.pathname === '/__scenarios' && req.method === 'PUT') {
      const scenario = JSON.parse(body) as Scenario;
      if (!GPU_STUB_MODES.includes(scenario.mode)) return sendProblem(res, 400, `unknown mode ${scenario.mode}`);
      scenarios.set(scenario.prompt, { scenario, left: scenario.times ?? Number.POSITIVE_INFINITY });
      return void res.writeHead(204).end();
    }
    if (url.pathname === '/__scenarios' && req.method === 'DELETE') {
      scenarios.delete(url.searchParams.get('prompt') ?? '');
      return void res.writeHead(204).end();
    }
    if (url.pathname === '/__calls' && req.method === 'GET') {
      const list = calls.get(url.searchParams.get('prompt') ?? '') ?? [];
      return sendJson(res, 200, { count: list.length, calls: list });
    }
    if (url.pathname === '/__gates' && req.method === 'POST') {
      gateOf(url.searchParams.get('prompt') ?? '').open();
      return void res.writeHead(204).end();
    }
    if (url.pathname === '/ping') return void res.writeHead(200).end();
    const route = /^(?:\/as\/([^/]+))?\/v1\/generate$/.exec(url.pathname);
    if (route === null || req.method !== 'POST') return sendProblem(res, 404, 'not found');
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return sendProblem(res, 401, 'missing or wrong token');
    }
    const parsed = generateRequestSchema.safeParse(safeJson(body));
    if (!parsed.success) return sendProblem(res, 400, `bad generate request: ${parsed.error.message}`);
    const request = parsed.data;
    const model = route[1] === undefined ? defaultModel : decodeURIComponent(route[1]);
    const list = calls.get(request.prompt) ?? [];
    const timeoutHeader = req.headers[HEADERS.requestTimeout.toLowerCase()];
    list.push({
      body: request,
      authorization: req.headers.authorization ?? null,
      requestTimeoutMs: typeof timeoutHeader === 'string' ? timeoutHeader : null,
      model,
      accept: req.headers.accept ?? null,
    });
    calls.set(request.prompt, list);
    const scenario = takeScenario(request.prompt);
    if (scenario?.mode === 'gated') await gateOf(request.prompt).opened;
    const streamed = acceptsEventStream(req.headers.accept);
    await answer(res, { request, model, scenario, streamed }, options.picture ?? pictureFor);
  }

  function takeScenario(prompt: string): Scenario | undefined {
    const entry = scenarios.get(prompt);
    if (entry === undefined || entry.left <= 0) {
      return options.defaultScenario === undefined ? undefined : { prompt, ...options.defaultScenario };
    }
    entry.left -= 1;
    return entry.scenario;
  }

  const listen = (port: number, host: string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  await listen(options.port ?? 0, options.host ?? '127.0.0.1');
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    refuseConnections: stopListening,
    acceptConnections: () => (server.listening ? Promise.resolve() : listen(port, address)),
    close: stopListening,
  };
}

interface Call {
  readonly request: GenerateRequest;
  readonly model: string;
  readonly scenario: Scenario | undefined;
  /** The caller accepts the progress stream. */
  readonly streamed: boolean;
}

async function answer(
  res: ServerResponse,
  { request, model, scenario, streamed }: Call,
  makePicture: (request: GenerateRequest, width: number, height: number) => Uint8Array,
): Promise<void> {
  const width = request.width ?? 512;
  const height = request.height ?? 512;
  const mode = scenario?.mode ?? 'ok';
  const headers = (png: Uint8Array, overrides: Record<string, string> = {}) => ({
    'Content-Type': 'image/png',
    'Content-Length': String(png.byteLength),
    [HEADERS.seed]: String(request.seed),
    [HEADERS.model]: model,
    [HEADERS.serverTiming]: 'queue;dur=0, denoise;dur=1, png;dur=0',
    ...overrides,
  });
  switch (mode) {
    case 'ok':
    case 'gated': // its gate is open by now
      return sendPng(res, makePicture(request, width, height), headers);
    case 'slow':
      await sleep(scenario?.delayMs ?? 500);
      return sendPng(res, makePicture(request, width, height), headers);
    case 'progress': {
      const png = makePicture(request, width, height);
      if (!streamed) {
        await sleep(scenario?.delayMs ?? 500);
        return sendPng(res, png, headers);
      }
      return streamProgress(res, png, { steps: request.steps ?? 4, delayMs: scenario?.delayMs ?? 500, head: headers(png) });
    }
    case 'status': {
      const extra: Record<string, string> = scenario?.retryAfter === undefined ? {} : { 'Retry-After': String(scenario.retryAfter) };
      return sendProblem(res, scenario?.status ?? 500, scenario?.detail ?? 'injected failure', extra, scenario?.problemType);
    }
    case 'not_png':
      res.writeHead(200, { 'Content-Type': 'text/html' });
      return void res.end('<html><body>Gateway says hello</body></html>');
    case 'truncated':
      return sendPng(res, makePicture(request, width, height).subarray(0, -20), headers);
    case 'corrupt': {
      const png = Uint8Array.from(makePicture(request, width, height));
      png[png.length - 20] = (png[png.length - 20] ?? 0) ^ 0xff; // inside IDAT, so its CRC fails
      return sendPng(res, png, headers);
    }
    case 'drop': {
      const png = makePicture(request, width, height);
      res.writeHead(200, headers(png));
      res.write(png.subarray(0, png.length >> 1));
      await sleep(20);
      return void res.destroy();
    }
    case 'wrong_size':
      return sendPng(res, makePicture(request, width + 8, height), headers);
    case 'wrong_model':
      return sendPng(res, makePicture(request, width, height), (png) => headers(png, { [HEADERS.model]: scenario?.model ?? 'someone/else@0000000' }));
    case 'wrong_seed':
      return sendPng(res, makePicture(request, width, height), (png) => headers(png, { [HEADERS.seed]: String(request.seed + 1) }));
    case 'no_model':
    case 'no_seed': {
      const png = makePicture(request, width, height);
      const { [mode === 'no_model' ? HEADERS.model : HEADERS.seed]: _omitted, ...rest } = headers(png);
      res.writeHead(200, rest);
      return void res.end(png);
    }
    case 'trickle': {
      const png = makePicture(request, width, height);
      res.writeHead(200, headers(png));
      for (const byte of png) {
        if (res.destroyed) return;
        res.write(Uint8Array.of(byte));
        await sleep(scenario?.delayMs ?? 200);
      }
      return void res.end();
    }
    case 'hang':
      return; // never answers; the socket is destroyed when the client gives up or the stub closes
  }
}

/** The GPU function's progress stream of one request: two queue positions, each step, the picture. */
async function streamProgress(
  res: ServerResponse,
  png: Uint8Array,
  { steps, delayMs, head }: { steps: number; delayMs: number; head: Record<string, string> },
): Promise<void> {
  res.writeHead(200, { 'Content-Type': EVENT_STREAM_CONTENT_TYPE, 'Cache-Control': 'no-store' });
  const pause = delayMs / (steps + 2);
  const events: ProgressEvent[] = [
    { event: 'queued', data: { position: 1, seconds_ahead: null } },
    { event: 'queued', data: { position: 0, seconds_ahead: null } },
    ...Array.from({ length: steps }, (_, i): ProgressEvent => ({ event: 'step', data: { step: i + 1, steps } })),
  ];
  for (const event of events) {
    if (res.destroyed) return;
    res.write(formatProgressEvent(event));
    await sleep(pause);
  }
  const image = {
    seed: head[HEADERS.seed] ?? '',
    model: head[HEADERS.model] ?? '',
    server_timing: head[HEADERS.serverTiming] ?? '',
    png: Buffer.from(png).toString('base64'),
  };
  res.end(formatProgressEvent({ event: 'image', data: image }));
}

/** A PNG whose pixels depend on the request, so different requests never share bytes. */
export function pictureFor(request: GenerateRequest, width: number, height: number): Uint8Array {
  const png = new PNG({ width, height });
  const tag = hash(`${request.prompt}|${request.seed}|${request.steps}|${request.guidance}|${request.scheduler}`);
  for (let i = 0; i < width * height; i++) {
    png.data[i * 4] = (tag + i) & 0xff;
    png.data[i * 4 + 1] = (tag >>> 8) & 0xff;
    png.data[i * 4 + 2] = (tag >>> 16) & 0xff;
    png.data[i * 4 + 3] = 0xff;
  }
  return new Uint8Array(PNG.sync.write(png));
}

/** The stub does not weigh q-values: listing the stream type is asking for it. */
function acceptsEventStream(accept: string | undefined): boolean {
  return accept?.includes(EVENT_STREAM_CONTENT_TYPE) ?? false;
}

function sendPng(res: ServerResponse, png: Uint8Array, headers: (png: Uint8Array) => Record<string, string>): void {
  res.writeHead(200, headers(png));
  res.end(png);
}

function sendProblem(
  res: ServerResponse,
  status: number,
  detail: string,
  extra: Record<string, string> = {},
  type = 'about:blank',
): void {
  res.writeHead(status, { 'Content-Type': PROBLEM_CONTENT_TYPE, ...extra });
  res.end(JSON.stringify({ type, title: 'stub', status, detail }));
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function hash(text: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const delayMs = arg('delay-ms');
  const stub = await startGpuStub({
    port: Number(arg('port') ?? 8788),
    model: arg('model'),
    token: process.env.GPU_FUNCTION_TOKEN,
    ...(delayMs === undefined ? {} : { defaultScenario: { mode: 'slow', delayMs: Number(delayMs) } }),
  });
  console.log(`GPU stub listening on ${stub.url}`);
}
