// Keeps `process.exit()` from aborting the process while the worker is inside onnxruntime.
//
// Exiting the process terminates its worker threads. onnxruntime-node 1.30 runs each network call
// synchronously; when the worker's JavaScript is terminated during one, the binding fails to hand
// back its result, throws a C++ exception (Napi::Error) nobody catches, and the whole process aborts
// (SIGABRT, exit 134) instead of exiting with the code it asked for — verified with the tiny model:
// `process.exit(1)` mid-batch, as main.ts does when SHUTDOWN_GRACE_MS runs out. The same holds for
// `worker.terminate()`, which is why nothing here ever calls it.
//
// So the main thread and the worker share one Int32 (a SharedArrayBuffer): RUNNING while the worker
// may still enter onnxruntime, STOPPED once it never will (its `exit` handler stores it, on any way out
// of the thread). A `process.on('exit')` listener asks a running worker to halt — the message is
// handled between two network calls, as onnxruntime-node schedules each one with setImmediate — and
// blocks with Atomics.wait until the worker has stopped; then the process exits as asked. The wait
// lasts at most the network call in progress (milliseconds on a GPU, seconds for a full-size UNet on a
// CPU); a platform that will not wait sends SIGKILL, which needs no cooperation.

/** The control word's values. */
export const RUNNING = 0;
export const STOPPED = 1;

export function createControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
}

export function isStopped(control: SharedArrayBuffer): boolean {
  return Atomics.load(new Int32Array(control), 0) === STOPPED;
}

/** Marks the worker stopped and wakes a main thread waiting in the exit guard. */
export function markStopped(control: SharedArrayBuffer): void {
  const word = new Int32Array(control);
  Atomics.store(word, 0, STOPPED);
  Atomics.notify(word, 0);
}

/**
 * Until the returned function is called: whenever the process exits, `halt()` first (it posts the
 * worker a `halt` message) and wait until the worker has stopped.
 */
export function guardProcessExit(control: SharedArrayBuffer, halt: () => void): () => void {
  const word = new Int32Array(control);
  const onExit = (): void => {
    if (Atomics.load(word, 0) === STOPPED) return;
    halt();
    // Returns at once when the word is no longer RUNNING, else when markStopped notifies.
    while (Atomics.load(word, 0) === RUNNING) Atomics.wait(word, 0, RUNNING);
  };
  process.on('exit', onExit);
  return () => process.off('exit', onExit);
}
