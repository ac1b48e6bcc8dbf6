// The progress stream of one admitted generation (docs/gpu-function.md, "Progress stream"): a 200
// `text/event-stream` whose events are written as the request moves — `queued` when it is admitted
// and whenever the number of requests ahead of it changes, `step` after each denoising step, then
// `image` or `error` — with a `: heartbeat` comment whenever nothing was sent for `heartbeatMs`, so
// proxies and load balancers do not take the wait for a dead connection. A reader that goes away
// (the stream is cancelled) abandons the request, as a closed plain request does.
import { Buffer } from 'node:buffer';
import {
  EVENT_STREAM_CONTENT_TYPE,
  formatProgressEvent,
  HEARTBEAT,
  isFinalEvent,
  type ProgressEvent,
} from '../../../contract';
import type { QueuePosition } from '../batcher/batcher';
import type { GenerationOutcome } from './generation-outcome';

/** What the stream sends when nothing else was sent for this long (WHATWG HTML's SSE advice: ~15 s). */
export const DEFAULT_HEARTBEAT_MS = 15_000;

export class ProgressStreamWriter {
  readonly body: ReadableStream<Uint8Array>;
  readonly #encoder = new TextEncoder();
  readonly #heartbeatMs: number;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #heartbeat: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #queuedAhead: number | undefined;

  /** `onCancel`: the reader went away before the final event. */
  constructor(heartbeatMs: number, onCancel: () => void) {
    this.#heartbeatMs = heartbeatMs;
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        this.#armHeartbeat();
      },
      cancel: () => {
        this.#stop();
        onCancel();
      },
    });
  }

  /** The 200 that carries the stream (no Content-Length: it is as long as the wait). */
  response(): Response {
    return new Response(this.body, {
      status: 200,
      headers: {
        'Content-Type': `${EVENT_STREAM_CONTENT_TYPE}; charset=utf-8`,
        'Cache-Control': 'no-store',
        // nginx buffers proxied answers unless told not to; a buffered progress stream shows nothing.
        'X-Accel-Buffering': 'no',
      },
    });
  }

  /** A `queued` event, unless the number ahead is the one last sent. */
  queued(position: QueuePosition): void {
    if (position.ahead === this.#queuedAhead) return;
    this.#queuedAhead = position.ahead;
    const secondsAhead = position.secondsAhead === undefined ? null : Math.round(position.secondsAhead * 10) / 10;
    this.send({ event: 'queued', data: { position: position.ahead, seconds_ahead: secondsAhead } });
  }

  /** The final event for the outcome (nothing when the reader has gone), then the end of the stream. */
  finish(outcome: GenerationOutcome): void {
    if (outcome.kind === 'client_closed') return this.#stop();
    if (outcome.kind === 'problem') {
      const { retryAfterSeconds, headers: _headers, ...problem } = outcome.error.problem;
      const retryAfter = retryAfterSeconds === undefined ? {} : { retry_after: Math.max(0, Math.ceil(retryAfterSeconds)) };
      return this.send({ event: 'error', data: { ...problem, ...retryAfter } });
    }
    const { png, seed, model, serverTiming } = outcome.picture;
    const base64 = Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64');
    this.send({ event: 'image', data: { seed, model, server_timing: serverTiming, png: base64 } });
  }

  send(event: ProgressEvent): void {
    if (this.#closed) return;
    this.#controller.enqueue(this.#encoder.encode(formatProgressEvent(event)));
    if (isFinalEvent(event)) {
      this.#stop();
      this.#controller.close();
    } else {
      this.#armHeartbeat();
    }
  }

  #armHeartbeat(): void {
    clearTimeout(this.#heartbeat);
    this.#heartbeat = setTimeout(() => {
      if (this.#closed) return;
      this.#controller.enqueue(this.#encoder.encode(HEARTBEAT));
      this.#armHeartbeat();
    }, this.#heartbeatMs);
  }

  #stop(): void {
    this.#closed = true;
    clearTimeout(this.#heartbeat);
  }
}
