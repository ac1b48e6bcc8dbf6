// The pipeline, run on a worker thread. onnxruntime-node 1.30 runs every network call synchronously
// on the thread that calls it, so a pipeline on the main thread stalls HTTP for a whole UNet step or
// VAE decode (seconds on a CPU); here the main thread only posts batches and receives images, and
// /ping, /metrics, disconnects and deadlines are served while the networks run.
//
// The surface is loadPipeline's, minus the tokenizer (the main thread keeps its own for
// /v1/tokenize): `PipelineThread.start(folder, options)` resolves once the networks are open,
// `generate(batch)` resolves with one image per request, `release()` frees the sessions and ends the
// thread. A worker that dies on its own (an uncaught error, out of memory) fails the batch it was
// running with PipelineCrashedError, every later call with PipelineStoppedError, and settles `crashed`.
import type { Worker } from 'node:worker_threads';
import type { ModelFolder } from '../../model/model-folder';
import type { ExecutionProvider, ExecutionProviderSetting } from '../../pipeline/onnx-runtime';
import type { BatchImages, StepProgress } from '../../pipeline/types';
import type { ResolvedGeneration } from '../../../contract';
import { PipelineCrashedError, PipelineStoppedError } from './errors';
import { createControl, guardProcessExit, markStopped } from './exit-guard';
import { deserializeError, type FromWorker, type ToWorker } from './protocol';
import { spawnPipelineWorker } from './spawn-worker';
import { clearFlagsOnAbort, createWantedFlags } from './wanted-flags';

export interface PipelineThreadOptions {
  readonly provider: ExecutionProviderSetting;
  /** Threads per operator. @default os.availableParallelism() */
  readonly intraOpThreads?: number | undefined;
  /** Log lines from the worker (onnxruntime's, e.g. why CUDA was not used). */
  readonly log: (line: string) => void;
}

/** The per-batch hooks of `generate`, on the main thread's side of the boundary. */
export interface BatchOptions {
  /**
   * One per request, in order (missing or undefined: always wanted): once one aborts, nobody waits for
   * that request any more; it leaves the batch before the worker's next step and its place is undefined.
   */
  readonly signals?: readonly (AbortSignal | undefined)[];
  /** Told of each finished denoising step, as the worker posts it. */
  readonly onStep?: (progress: StepProgress) => void;
}

interface Pending {
  readonly size: number;
  readonly onStep: ((progress: StepProgress) => void) | undefined;
  readonly resolve: (images: BatchImages) => void;
  readonly reject: (error: Error) => void;
}

type Phase = 'loading' | 'running' | 'releasing' | 'stopped';

export class PipelineThread {
  readonly #worker: Worker;
  readonly #log: (line: string) => void;
  readonly #pending = new Map<number, Pending>();
  readonly #disposeGuard: () => void;
  readonly #loaded = deferred<void>();
  readonly #crashed = deferred<PipelineCrashedError>();
  #released: Deferred<void> | undefined;
  #phase: Phase = 'loading';
  #provider: ExecutionProvider | undefined;
  #nextId = 1;
  /** What the worker said or threw before it ended: the reason given when it is gone. */
  #lastError: Error | undefined;
  #stoppedBecause: string | undefined;

  /** Starts the worker and opens the folder's networks there; rejects with the worker's error. */
  static async start(folder: ModelFolder, options: PipelineThreadOptions): Promise<PipelineThread> {
    const thread = new PipelineThread(folder, options);
    await thread.#loaded.promise;
    return thread;
  }

  private constructor(folder: ModelFolder, options: PipelineThreadOptions) {
    this.#log = options.log;
    const control = createControl();
    this.#worker = spawnPipelineWorker({ folder, provider: options.provider, intraOpThreads: options.intraOpThreads, control });
    this.#disposeGuard = guardProcessExit(control, () => this.#post({ type: 'halt' }));
    this.#worker.on('message', (message: FromWorker) => this.#receive(message));
    this.#worker.on('error', (error) => (this.#lastError = error));
    this.#worker.on('messageerror', (error) => this.#failPending(error));
    this.#worker.on('exit', (code) => {
      markStopped(control);
      this.#disposeGuard();
      this.#exited(code);
    });
  }

  /** Where the UNet runs (the networks share one provider). */
  get provider(): ExecutionProvider {
    if (this.#provider === undefined) throw new Error('the pipeline is still loading');
    return this.#provider;
  }

  /** The worker's thread id (as in `[worker <id>]` of Node's messages and the inspector). */
  get threadId(): number {
    return this.#worker.threadId;
  }

  /** Settles when the worker stops on its own after loading; never when it is released. */
  get crashed(): Promise<PipelineCrashedError> {
    return this.#crashed.promise;
  }

  /**
   * Runs compatible requests as one batch in the worker; one place per request, in order: its image, or
   * undefined when its signal aborted before the image was done.
   */
  generate(batch: readonly ResolvedGeneration[], options: BatchOptions = {}): Promise<BatchImages> {
    if (this.#phase !== 'running') return Promise.reject(this.#stoppedError());
    const id = this.#nextId++;
    const wanted = createWantedFlags(batch.length);
    const detach = clearFlagsOnAbort(wanted, options.signals ?? []);
    const settled = new Promise<BatchImages>((resolve, reject) => {
      this.#post({ type: 'generate', id, batch, wanted });
      this.#pending.set(id, { size: batch.length, onStep: options.onStep, resolve, reject });
      this.#updateRef();
    });
    return settled.finally(detach);
  }

  /** Releases the sessions and ends the thread, after the batch it runs (if any). */
  release(): Promise<void> {
    if (this.#released !== undefined) return this.#released.promise;
    if (this.#phase === 'stopped') return Promise.resolve();
    this.#released = deferred<void>();
    this.#phase = 'releasing';
    this.#post({ type: 'release' });
    this.#updateRef();
    return this.#released.promise;
  }

  #post(message: ToWorker): void {
    this.#worker.postMessage(message);
  }

  #receive(message: FromWorker): void {
    switch (message.type) {
      case 'log':
        this.#log(message.message);
        return;
      case 'loaded':
        this.#provider = message.provider;
        if (this.#phase === 'loading') this.#phase = 'running';
        this.#updateRef();
        this.#loaded.resolve();
        return;
      case 'load-failed':
        // The worker exits next; `start` rejects with this once it has.
        this.#lastError = deserializeError(message.error);
        return;
      case 'step':
        this.#pending.get(message.id)?.onStep?.(message.progress);
        return;
      case 'generated':
        this.#take(message.id)?.resolve([...message.images]);
        return;
      case 'failed':
        this.#take(message.id)?.reject(deserializeError(message.error));
        return;
    }
  }

  #take(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    this.#updateRef();
    return pending;
  }

  #exited(code: number): void {
    const phase = this.#phase;
    this.#phase = 'stopped';
    const cause = this.#lastError;
    const why = `exit code ${code}${cause === undefined ? '' : `: ${cause.name}: ${cause.message}`}`;
    // Rejects `start` when the worker ended before it had loaded (no-op once loaded).
    this.#loaded.reject(cause ?? new Error(`the pipeline worker thread stopped while loading (${why})`));
    if (phase === 'loading') {
      this.#stoppedBecause = `it failed while loading (${why})`;
      return;
    }
    if (phase === 'releasing' && code === 0) {
      this.#stoppedBecause = 'it was released';
      this.#failPending(this.#stoppedError());
      this.#released?.resolve();
      return;
    }
    this.#stoppedBecause = `it stopped unexpectedly (${why})`;
    const crash = new PipelineCrashedError(`the pipeline worker thread stopped unexpectedly (${why})`, { cause });
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      pending.reject(
        new PipelineCrashedError(`the pipeline worker thread stopped unexpectedly while running a batch of ${pending.size} (${why})`, { cause }),
      );
    }
    this.#released?.reject(crash);
    this.#crashed.resolve(crash);
  }

  #failPending(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#updateRef();
  }

  #stoppedError(): PipelineStoppedError {
    const why = this.#phase === 'releasing' ? 'it is being released' : (this.#stoppedBecause ?? 'it is not running');
    return new PipelineStoppedError(`the pipeline worker thread takes no batch: ${why}`);
  }

  /** Keeps the process alive while the worker has work (loading, a batch, releasing), not while it idles. */
  #updateRef(): void {
    if (this.#phase === 'stopped') return;
    if (this.#phase === 'running' && this.#pending.size === 0) this.#worker.unref();
    else this.#worker.ref();
  }
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
