// Test helper: a real crash of the pipeline's worker thread, with nothing stubbed and no hook in the
// service. Through the inspector protocol's NodeWorker domain it throws an uncaught error inside every
// worker named `pipeline` in this process; the error fires from a timer, i.e. between two of the
// worker's onnxruntime calls, exactly as a bug in the worker's own code would.
import { Session } from 'node:inspector/promises';

export async function crashPipelineWorkers(message: string): Promise<void> {
  const session = new Session();
  session.connect();
  const workers: string[] = [];
  session.on('NodeWorker.attachedToWorker', ({ params }) => {
    if (params.workerInfo.title.includes('pipeline')) workers.push(params.sessionId);
  });
  await session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  while (workers.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const expression = `setTimeout(() => { throw new Error(${JSON.stringify(message)}); }, 0); 1`;
  for (const sessionId of workers) {
    await session.post('NodeWorker.sendMessageToWorker', {
      sessionId,
      message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }),
    });
  }
  session.disconnect();
}
