// Turns a miss into a stored picture. Implementations must (1) make at most one GPU call per key at a
// time, however many requests wait for it, (2) store the PNG in the image store before answering, so
// a later request never regenerates (when the store refuses the write, answer with the picture anyway
// and say `stored: false`), and (3) store nothing when the GPU answer is refused.
// Node: CoalescingGenerator in the process. Workers: the same, inside a Durable Object per content key
// (edge/cloudflare/durable-objects.ts), so every data centre's requests for a key meet there.
import { internalError, ProblemError, type ProblemInit, type ResolvedGeneration } from '../../contract';
import { expectedModelHeader, type GpuSettings } from '../config';
import { log } from '../log';
import { nothingInFlight } from '../problems';
import type { ImageRequest } from '../request/image-query';
import { type ImageMetadata, type ImageStore, imageMetadata, readStore } from '../storage';
import {
  GenerationProgress,
  HEARTBEAT_MS,
  type ProgressReport,
  type WatchListener,
  watchEventStream,
} from './generation-progress';
import { type GpuTarget, generateOnGpu } from './gpu-client';

/** Everything needed to make and store one picture; plain data (it crosses Durable Object RPC). */
export interface GenerationJob {
  readonly key: string;
  /** The body of `POST /v1/generate`, every field resolved. */
  readonly request: ResolvedGeneration;
  readonly gpu: GpuTarget;
  readonly metadata: ImageMetadata;
}

export interface GeneratedImage {
  readonly png: Uint8Array;
  /** True when this call found the picture already stored (another request made it). */
  readonly alreadyStored: boolean;
  /** False only when the store refused the write: the picture is served anyway, but not kept. */
  readonly stored: boolean;
}

export interface ImageGenerator {
  /** Resolves with the stored picture, or rejects with a ProblemError (nothing stored then). */
  generate(job: GenerationJob): Promise<GeneratedImage>;
  /**
   * The outcome of the generation in flight for `key`, as `generate` would give a request joining it
   * (`alreadyStored`); undefined at once when none is in flight. Never starts one: a request that
   * joins is not charged to its client (edge/routes/images.ts).
   */
  join(key: string): Promise<GeneratedImage | undefined>;
  /**
   * GET /v1/progress's event stream for `key`: the progress of the generation in flight, then `done`
   * or `error`. Never starts one: with none in flight and nothing stored it waits up to
   * `options.waitMs` for one to start (an <img> and its progress often start together), then says so.
   */
  watch(key: string, options: WatchOptions): Promise<ReadableStream<Uint8Array>>;
}

export interface WatchOptions {
  /** The content URL a `done` event names. */
  readonly url: string;
  /** How long to wait for a generation to start when none is in flight. */
  readonly waitMs: number;
}

/** The job for a miss, from the resolved request and the configuration. */
export function generationJob(key: string, request: ImageRequest, gpu: GpuSettings): GenerationJob {
  const { model, ...generation } = request;
  const url = model.gpu_function_url ?? gpu.url;
  if (url === undefined) throw new Error(`no GPU function URL for model ${model.name}`); // parseConfig rules this out
  return {
    key,
    request: generation,
    gpu: {
      url,
      token: gpu.token,
      expectedModel: expectedModelHeader(model),
      timeoutMs: gpu.timeoutMs,
      maxRetries: gpu.maxRetries,
      retryMaxWaitMs: gpu.retryMaxWaitMs,
    },
    metadata: imageMetadata(request),
  };
}

/**
 * One generation, start to finish: reuse what is already stored, else call the GPU function (which
 * validates the picture) and store it before anyone is answered. A store that cannot be read is a 503
 * (nothing generated; see readStore); a store that refuses the write still gets the client its
 * picture — it was paid for — marked as not stored and logged, so the operator sees it and the next
 * miss generates again.
 */
export async function generateAndStore(
  job: GenerationJob,
  store: ImageStore,
  progress?: ProgressReport,
): Promise<GeneratedImage> {
  const stored = await readStore('get', job.key, () => store.get(job.key));
  if (stored !== null) {
    return { png: new Uint8Array(await new Response(stored.body).arrayBuffer()), alreadyStored: true, stored: true };
  }
  const started = Date.now();
  let image: Awaited<ReturnType<typeof generateOnGpu>>;
  try {
    image = await generateOnGpu(job.gpu, job.request, progress);
  } catch (error) {
    log('warn', 'generation_failed', { key: job.key, ms: Date.now() - started, error: String(error) });
    throw error;
  }
  const fields = { key: job.key, ms: Date.now() - started, bytes: image.png.byteLength, gpu_timing: image.serverTiming };
  try {
    await store.put(job.key, image.png, job.metadata);
  } catch (error) {
    log('error', 'store_put_failed', { ...fields, error: String(error) });
    return { png: image.png, alreadyStored: false, stored: false };
  }
  log('info', 'generated', fields);
  return { png: image.png, alreadyStored: false, stored: true };
}

/** A generation under way: its outcome, and what its watchers see meanwhile. */
interface InFlight {
  readonly running: Promise<GeneratedImage>;
  readonly progress: GenerationProgress;
}

/**
 * ImageGenerator for one process: concurrent calls for one key share a single generateAndStore. The
 * entry is dropped when it settles, so a failure is not remembered (the next call retries) and a
 * success is found in the store by the next call. Callers that joined learn it (alreadyStored), so
 * their answers say `detail=coalesced`. Watchers attach to the entry's progress; a watcher waiting for
 * a start is woken by generate.
 */
export class CoalescingGenerator implements ImageGenerator {
  readonly #store: ImageStore;
  readonly #heartbeatMs: number;
  readonly #inFlight = new Map<string, InFlight>();
  readonly #startWaiters = new Map<string, Set<(entry: InFlight | undefined) => void>>();

  constructor(store: ImageStore, options: { readonly heartbeatMs?: number } = {}) {
    this.#store = store;
    this.#heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  }

  generate(job: GenerationJob): Promise<GeneratedImage> {
    const joined = this.#joined(job.key);
    if (joined !== undefined) return joined;
    const progress = new GenerationProgress();
    const running = generateAndStore(job, this.#store, progress).then(
      (image) => {
        progress.settled(undefined);
        return image;
      },
      (error: unknown) => {
        progress.settled(problemOf(error));
        throw error;
      },
    );
    void running.finally(() => this.#inFlight.delete(job.key)).catch(() => undefined);
    const entry = { running, progress };
    this.#inFlight.set(job.key, entry);
    for (const wake of [...(this.#startWaiters.get(job.key) ?? [])]) wake(entry);
    return running;
  }

  async join(key: string): Promise<GeneratedImage | undefined> {
    return this.#joined(key);
  }

  async watch(key: string, options: WatchOptions): Promise<ReadableStream<Uint8Array>> {
    return watchEventStream((send, left) => this.#follow(key, options, send, left), this.#heartbeatMs);
  }

  /** Watchers of `key` now, attached or waiting for a start (none once they left: no leak). */
  watching(key: string): number {
    return (this.#inFlight.get(key)?.progress.watchers ?? 0) + (this.#startWaiters.get(key)?.size ?? 0);
  }

  #joined(key: string): Promise<GeneratedImage> | undefined {
    return this.#inFlight.get(key)?.running.then((image) => ({ ...image, alreadyStored: true }));
  }

  async #follow(key: string, { url, waitMs }: WatchOptions, send: WatchListener, left: AbortSignal): Promise<void> {
    try {
      let entry = this.#inFlight.get(key);
      if (entry === undefined) {
        // Waiting from now on (before the store is read), so a start during the read is not missed,
        // and a watcher is attached by the time its answer's headers leave.
        const start = this.#nextStart(key, waitMs, left);
        if (await this.#isStored(key)) {
          start.cancel();
          if (!left.aborted) send({ event: 'done', data: { url } });
          return;
        }
        entry = await start.started;
      }
      if (left.aborted) return;
      if (entry === undefined) {
        // Maybe it finished just before we looked (a redirected <img> and its watcher race like that).
        if (await this.#isStored(key)) send({ event: 'done', data: { url } });
        else send({ event: 'error', data: nothingInFlight(waitMs).problem });
        return;
      }
      const outcome = await settledOrLeft(entry.progress, send, left);
      if (outcome === LEFT) return;
      send(outcome === undefined ? { event: 'done', data: { url } } : { event: 'error', data: outcome });
    } catch (error) {
      if (!left.aborted) send({ event: 'error', data: problemOf(error) });
    }
  }

  async #isStored(key: string): Promise<boolean> {
    return (await readStore('head', key, () => this.#store.head(key))) !== null;
  }

  /**
   * Waits, from this call on, for the generation of `key` that starts within `waitMs`: `started` is
   * it, or undefined after the wait, on cancel() or when the watcher leaves.
   */
  #nextStart(key: string, waitMs: number, left: AbortSignal): { started: Promise<InFlight | undefined>; cancel(): void } {
    let wake: (entry: InFlight | undefined) => void = () => {};
    const started = new Promise<InFlight | undefined>((resolve) => {
      const waiters = this.#startWaiters.get(key) ?? new Set();
      this.#startWaiters.set(key, waiters);
      const onLeft = () => wake(undefined);
      const timer = setTimeout(onLeft, waitMs);
      wake = (entry) => {
        clearTimeout(timer);
        left.removeEventListener('abort', onLeft);
        waiters.delete(wake);
        if (waiters.size === 0 && this.#startWaiters.get(key) === waiters) this.#startWaiters.delete(key);
        resolve(entry);
      };
      left.addEventListener('abort', onLeft);
      waiters.add(wake);
    });
    return { started, cancel: () => wake(undefined) };
  }
}

const LEFT = Symbol('left');

/**
 * Passes the generation's progress on to `send` until it settles (its problem, or undefined when it
 * made the picture) or the watcher leaves (LEFT); either way the watcher is unsubscribed, so a watcher
 * that left holds nothing of the generation.
 */
function settledOrLeft(
  progress: GenerationProgress,
  send: WatchListener,
  left: AbortSignal,
): Promise<ProblemInit | undefined | typeof LEFT> {
  return new Promise((resolve) => {
    let stop = () => {};
    const finish = (outcome: ProblemInit | undefined | typeof LEFT) => {
      stop();
      left.removeEventListener('abort', onLeft);
      resolve(outcome);
    };
    const onLeft = () => finish(LEFT);
    left.addEventListener('abort', onLeft);
    stop = progress.subscribe((update) => (update.event === 'settled' ? finish(update.problem) : send(update)));
    if (left.aborted) finish(LEFT);
  });
}

/** A failed generation's problem as its answer would carry it; anything else is our bug (500). */
function problemOf(error: unknown): ProblemInit {
  return error instanceof ProblemError ? error.problem : internalError().problem;
}
