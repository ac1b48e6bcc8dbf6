// What a caller of PipelineThread sees when the worker thread itself is gone (an error *in* a batch
// comes back as the worker's own error instead, name and message kept).

/** The worker thread stopped while running this batch (an uncaught error in it, or it ran out of memory). */
export class PipelineCrashedError extends Error {
  override readonly name = 'PipelineCrashedError';
}

/** The worker thread is no longer there (it crashed earlier, or was released): no batch can run. */
export class PipelineStoppedError extends Error {
  override readonly name = 'PipelineStoppedError';
}
