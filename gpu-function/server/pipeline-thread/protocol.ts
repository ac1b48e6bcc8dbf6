// What the main thread and the pipeline's worker thread say to each other (pipeline-thread.ts on one
// side, pipeline-worker.ts on the other). Messages are structured-cloned; the images' PNG and pixel
// buffers are transferred, not copied. Errors cross as name + message + stack, since structured clone
// keeps neither custom error classes nor their names.
import type { ModelFolder } from '../../model/model-folder';
import type { ExecutionProvider, ExecutionProviderSetting } from '../../pipeline/onnx-runtime';
import type { BatchImages, StepProgress } from '../../pipeline/types';
import type { ResolvedGeneration } from '../../../contract';

/** The worker's `workerData`: what to load, and the control word shared with the main thread. */
export interface PipelineWorkerData {
  readonly folder: ModelFolder;
  readonly provider: ExecutionProviderSetting;
  readonly intraOpThreads: number | undefined;
  /** One Int32 (exit-guard.ts): whether the worker may still enter onnxruntime. */
  readonly control: SharedArrayBuffer;
}

export type ToWorker =
  | {
      readonly type: 'generate';
      readonly id: number;
      readonly batch: readonly ResolvedGeneration[];
      /** One Int32 per request (wanted-flags.ts): WANTED while someone waits for it; the main thread clears it. */
      readonly wanted: SharedArrayBuffer;
    }
  /** Release the sessions and end the thread (exit code 0). */
  | { readonly type: 'release' }
  /** The process is exiting: stop before the next onnxruntime call (exit-guard.ts). */
  | { readonly type: 'halt' };

export type FromWorker =
  /** A line for the service's log (onnxruntime's provider fallback, …). */
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'loaded'; readonly provider: ExecutionProvider }
  | { readonly type: 'load-failed'; readonly error: SerializedError }
  /** A denoising step of batch `id` is done (posted during the batch: the main thread's loop turns). */
  | { readonly type: 'step'; readonly id: number; readonly progress: StepProgress }
  /** One place per request; `undefined` where the request was no longer wanted. */
  | { readonly type: 'generated'; readonly id: number; readonly images: BatchImages }
  | { readonly type: 'failed'; readonly id: number; readonly error: SerializedError };

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error), stack: undefined };
}

/** The worker's error on this side: same name and message; its stack is the worker's. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}
