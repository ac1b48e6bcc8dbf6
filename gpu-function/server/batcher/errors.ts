// Why the batcher refused an item. The HTTP layer turns both into 503 problems with Retry-After.

/** The queue holds `maxQueue` items already. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  /** Seconds after which a retry should find room (recent throughput × the backlog). */
  readonly retryAfterSeconds: number;
  constructor(state: string, retryAfterSeconds: number) {
    super(`The queue is full: ${state}`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** `close()` was called: the batcher finishes what it has and takes nothing new. */
export class QueueClosedError extends Error {
  override readonly name = 'QueueClosedError';
  constructor(state: string) {
    super(`The queue is closed: ${state}`);
  }
}
