// The pipeline's worker thread (started by spawn-worker.ts): loads the model folder's networks with
// loadPipeline, then runs the batches the main thread sends, one at a time and in order, so the main
// thread's event loop never waits for onnxruntime. Every answer names the request it answers; images go
// back with their buffers transferred; errors go back with their name and message. During a batch the
// worker reads which requests are still wanted from shared memory (wanted-flags.ts) before each step,
// and posts a `step` message after each one.
import { parentPort, workerData } from 'node:worker_threads';
import { loadPipeline, type LoadedPipeline } from '../../pipeline/load-pipeline';
import type { FromWorker, PipelineWorkerData, ToWorker } from './protocol';
import { serializeError } from './protocol';
import { transferableImages } from './transfer';
import { wantedReader } from './wanted-flags';

if (parentPort === null) throw new Error('pipeline-worker runs in a worker thread (see pipeline-thread.ts)');
const port = parentPort;
const data = workerData as PipelineWorkerData;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/** One message at a time: a batch's network calls never interleave with another's. */
let queue: Promise<unknown> = Promise.resolve();
let loaded: LoadedPipeline | undefined;

port.on('message', (message: ToWorker) => {
  // The process is exiting (exit-guard.ts): stop here, between two onnxruntime calls.
  if (message.type === 'halt') process.exit(0);
  queue = queue.then(() => handle(message));
});

queue = queue.then(load);

async function load(): Promise<void> {
  try {
    loaded = await loadPipeline(data.folder, {
      provider: data.provider,
      ...(data.intraOpThreads === undefined ? {} : { intraOpThreads: data.intraOpThreads }),
      log: (message) => post({ type: 'log', message }),
    });
    post({ type: 'loaded', provider: loaded.provider });
  } catch (error) {
    post({ type: 'load-failed', error: serializeError(error) });
    process.exit(1);
  }
}

async function handle(message: Exclude<ToWorker, { type: 'halt' }>): Promise<void> {
  switch (message.type) {
    case 'generate': {
      try {
        const { id } = message;
        const generated = await loaded!.pipeline.generate(message.batch, {
          isWanted: wantedReader(message.wanted),
          onStep: (progress) => post({ type: 'step', id, progress }),
        });
        const { images, transfer } = transferableImages(generated);
        post({ type: 'generated', id: message.id, images }, transfer);
      } catch (error) {
        post({ type: 'failed', id: message.id, error: serializeError(error) });
      }
      return;
    }
    case 'release':
      // The main thread sees the thread end (exit code 0); a release that throws crashes it instead.
      await loaded?.release();
      process.exit(0);
  }
}
