// Which requests of a running batch someone still waits for, shared by the two threads: the main thread
// clears a request's flag when its client disconnects or its deadline passes (its AbortSignal aborts),
// and the pipeline's worker thread reads the flags before every denoising step (GenerationHooks.isWanted),
// so abandoned work stops within one step. Shared memory (one Int32 per request, Atomics on both sides)
// rather than a message: the worker must read the answer synchronously at a fixed point of its loop,
// and its event loop does not reliably turn during a batch — where onnxruntime-node defers a network call
// with setImmediate it does, between two calls, but nothing in the loop may depend on that.

/** A request someone waits for. */
export const WANTED = 1;
/** Nobody waits for it any more; a flag never goes back to WANTED. */
export const UNWANTED = 0;

/** One flag per request of a batch, every one WANTED. */
export function createWantedFlags(count: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(Math.max(1, count) * Int32Array.BYTES_PER_ELEMENT);
  new Int32Array(buffer).fill(WANTED);
  return buffer;
}

/**
 * Main thread: clears request i's flag once `signals[i]` aborts (at once when it already has). Returns
 * a function that detaches the listeners, to call when the batch has settled.
 */
export function clearFlagsOnAbort(flags: SharedArrayBuffer, signals: readonly (AbortSignal | undefined)[]): () => void {
  const words = new Int32Array(flags);
  const detach: (() => void)[] = [];
  signals.forEach((signal, index) => {
    if (signal === undefined) return;
    const clear = (): void => void Atomics.store(words, index, UNWANTED);
    if (signal.aborted) return clear();
    signal.addEventListener('abort', clear, { once: true });
    detach.push(() => signal.removeEventListener('abort', clear));
  });
  return () => {
    for (const remove of detach) remove();
  };
}

/** Worker thread: the `isWanted` hook reading the flags. */
export function wantedReader(flags: SharedArrayBuffer): (index: number) => boolean {
  const words = new Int32Array(flags);
  return (index) => Atomics.load(words, index) === WANTED;
}
