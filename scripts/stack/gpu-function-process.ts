// The GPU function as a child process of the local stack: `gpu-function/server/main.ts` run by Node
// through tsx (what `npm run start:gpu` runs, minus npm's `sh -c`, which would not pass our signals
// on). It logs one JSON object per line; the first, `listening`, carries its URL (PORT=0 picks a free
// port). `ready()` waits for `GET /ping` → 200: model loaded (downloaded on a first run) and warm.
// The handle comes back at once, so a Ctrl-C during a long download can stop the process.
import { join } from 'node:path';
import { ManagedProcess, type ExitStatus, type OutputStream } from './child-process';
import { STACK_ROOT } from './stack-root';
import { ExitedError, tryFetch, waitUntil } from './wait-until';

/** A parsed log line of the GPU function (`gpu-function/server/logger.ts`). */
export interface GpuLogLine {
  readonly time: string;
  readonly level: 'info' | 'warn' | 'error';
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface GpuFunctionOptions {
  /** The child's whole environment: MODEL, HOST, PORT, GPU_FUNCTION_TOKEN and whatever else it should see. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Each JSON log line, parsed; `raw` is anything else it printed (onnxruntime's own logger). */
  readonly onLog?: (line: GpuLogLine | { readonly raw: string; readonly stream: OutputStream }) => void;
}

/** Why the GPU function stopped before it was ready, in its own words (its last failure log line). */
export interface GpuFailure {
  /** `startup_failed`: the model could not be loaded; `start_failed`: the port; `invalid_config`: a setting. */
  readonly event: string;
  readonly reason: string;
}

/** The GPU function exited before it was ready. */
export class GpuStartupError extends Error {
  override readonly name = 'GpuStartupError';
  readonly failure: GpuFailure | undefined;
  readonly status: ExitStatus;
  constructor(failure: GpuFailure | undefined, status: ExitStatus) {
    super(`the GPU function stopped before it was ready: ${failure?.reason ?? `exit ${status.signal ?? status.code}`}`);
    this.failure = failure;
    this.status = status;
  }
}

export interface GpuFunctionProcess {
  readonly process: ManagedProcess;
  /** Its URL (e.g. http://127.0.0.1:8788) once it listens; the model may still be loading. */
  readonly listening: Promise<string>;
  /** Resolves with its URL once /ping answers 200; rejects with GpuStartupError when the process exits first. */
  ready(): Promise<string>;
  /** SIGTERM: it finishes queued and running generations (its drain), then exits. */
  stop(graceMs?: number): Promise<ExitStatus>;
  /** SIGKILL to its process group, synchronously (for a process 'exit' handler). */
  forceStop(): void;
}

const MAIN = join(STACK_ROOT, 'gpu-function/server/main.ts');
/** Events whose `error` or `problems` say why start-up failed (docs/gpu-function.md, Logs). */
const FAILURE_EVENTS = new Set(['startup_failed', 'start_failed', 'invalid_config']);

/** Spawns the GPU function. Returns at once: `listening` and `ready()` tell how far it got. */
export function spawnGpuFunction(options: GpuFunctionOptions): GpuFunctionProcess {
  let failure: GpuFailure | undefined;
  let resolveListening: (url: string) => void = () => undefined;
  const listeningUrl = new Promise<string>((resolve) => {
    resolveListening = resolve;
  });
  const child = new ManagedProcess({
    name: 'the GPU function',
    command: process.execPath,
    args: ['--import', 'tsx', MAIN],
    cwd: STACK_ROOT,
    env: options.env,
    onLine(text, stream) {
      const line = parseLogLine(text);
      if (line === undefined) {
        options.onLog?.({ raw: text, stream });
        return;
      }
      if (line.event === 'listening' && typeof line.url === 'string') resolveListening(line.url);
      if (FAILURE_EVENTS.has(line.event)) failure ??= { event: line.event, reason: failureReason(line) };
      options.onLog?.(line);
    },
  });
  const listening = Promise.race([
    listeningUrl,
    child.exited.then((status) => Promise.reject(new GpuStartupError(failure, status))),
  ]);
  listening.catch(() => undefined); // ready() reports it; a caller that never asks must not crash
  return {
    process: child,
    listening,
    async ready() {
      const url = await listening;
      try {
        await waitUntil(async () => ((await tryFetch(`${url}/ping`))?.status === 200 ? true : undefined), {
          what: child.name,
          exited: child.exited,
        });
      } catch (error) {
        if (error instanceof ExitedError) throw new GpuStartupError(failure, error.status);
        throw error;
      }
      return url;
    },
    // The GPU function's own grace is SHUTDOWN_GRACE_MS (25 s) + 5 s; past that it is stuck.
    stop: (graceMs = 35_000) => child.stop({ signal: 'SIGTERM', graceMs }),
    forceStop: () => child.killGroup(),
  };
}

function parseLogLine(text: string): GpuLogLine | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && 'event' in value ? (value as GpuLogLine) : undefined;
  } catch {
    return undefined;
  }
}

function failureReason(line: GpuLogLine): string {
  if (typeof line.error === 'string') return line.error;
  if (Array.isArray(line.problems)) return `invalid configuration: ${line.problems.join('; ')}`;
  return line.event;
}
