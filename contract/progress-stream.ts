// The GPU function's progress stream: `POST /v1/generate` with `Accept: text/event-stream` answers,
// once the request is admitted, a server-sent event stream (WHATWG HTML §9.2, "Server-sent events")
// of `queued`, `step`, then `image` or `error` (docs/gpu-function.md, "Progress stream"). The events'
// schemas, the serializer the GPU function writes with and the incremental parser the edge reads with
// live here once. Web APIs only (TextDecoder, ReadableStream, atob): the parser runs in Workers and Node.
import { z } from 'zod';
import { problemSchema } from './problem';

export const EVENT_STREAM_CONTENT_TYPE = 'text/event-stream';

/** Sent while nothing else is (every 15 s by default), so proxies do not close an idle stream. */
export const HEARTBEAT = ': heartbeat\n\n';

/** Where the request waits: `position` requests ahead of it; `seconds_ahead` null before any batch was timed. */
export const queuedEventSchema = z.strictObject({
  position: z.int().min(0),
  seconds_ahead: z.number().min(0).nullable(),
});

/** A finished denoising step, 1-based; `steps` is the scheduler's count (PNDM's is the asked steps + 1). */
export const stepEventSchema = z
  .strictObject({ step: z.int().min(1), steps: z.int().min(1) })
  .refine((v) => v.step <= v.steps, { message: 'step must not exceed steps' });

/**
 * The picture, with what a plain answer carries in its headers, in snake_case: `seed` is X-Seed (a
 * decimal string), `model` X-Model, `server_timing` Server-Timing. `png` is the PNG's bytes in base64.
 */
export const imageEventSchema = z.strictObject({
  seed: z.string().regex(/^\d{1,10}$/),
  model: z.string(),
  server_timing: z.string(),
  png: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
});

/** The problem a plain answer would have carried; `retry_after` is its Retry-After in seconds, if any. */
export const errorEventSchema = problemSchema.extend({ retry_after: z.int().min(0).optional() });

export type QueuedEvent = z.infer<typeof queuedEventSchema>;
export type StepEvent = z.infer<typeof stepEventSchema>;
export type ImageEvent = z.infer<typeof imageEventSchema>;
export type ErrorEvent = z.infer<typeof errorEventSchema>;

export type ProgressEvent =
  | { readonly event: 'queued'; readonly data: QueuedEvent }
  | { readonly event: 'step'; readonly data: StepEvent }
  | { readonly event: 'image'; readonly data: ImageEvent }
  | { readonly event: 'error'; readonly data: ErrorEvent };

export type ProgressEventName = ProgressEvent['event'];

const EVENT_SCHEMAS: { readonly [Name in ProgressEventName]: z.ZodType } = {
  queued: queuedEventSchema,
  step: stepEventSchema,
  image: imageEventSchema,
  error: errorEventSchema,
};

/** The stream ends after one of these. */
export function isFinalEvent(event: ProgressEvent): boolean {
  return event.event === 'image' || event.event === 'error';
}

/** One event on the wire: its name and its data as one line of JSON (JSON.stringify escapes line breaks). */
export function formatProgressEvent(event: ProgressEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** The picture's bytes from an `image` event. */
export function imageEventPng(image: ImageEvent): Uint8Array {
  const text = atob(image.png);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** A stream that breaks the contract: bad JSON, an event that fails its schema, an event over the size cap. */
export class ProgressStreamError extends Error {
  override readonly name = 'ProgressStreamError';
}

/**
 * A 24 MiB PNG (the edge's cap on a picture) in base64 is 32 MiB; an event longer than this is not one
 * the GPU function sends, and buffering it further would let a peer fill our memory.
 */
export const MAX_PROGRESS_EVENT_CHARS = 34 * 1024 * 1024;

/**
 * Text in, events out, in chunks cut anywhere. Follows the SSE parsing rules: lines end in CRLF, LF or
 * CR; `:` starts a comment (the heartbeat); `data` lines join with LF; a blank line dispatches. Events
 * of other names are skipped (a newer GPU function may add some); a known one must match its schema.
 */
export class ProgressStreamParser {
  readonly #maxEventChars: number;
  #line = '';
  /** The previous chunk ended in CR: an LF at the start of the next one belongs to it. */
  #afterCR = false;
  #name = '';
  #data: string[] = [];
  #eventChars = 0;

  constructor(options: { readonly maxEventChars?: number } = {}) {
    this.#maxEventChars = options.maxEventChars ?? MAX_PROGRESS_EVENT_CHARS;
  }

  /** The events completed by this chunk, in order. */
  push(chunk: string): ProgressEvent[] {
    const events: ProgressEvent[] = [];
    let start = 0;
    if (this.#afterCR && chunk.startsWith('\n')) start = 1;
    this.#afterCR = false;
    for (let i = start; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const event = this.#endLine(this.#line + chunk.slice(start, i));
      this.#line = '';
      if (event !== undefined) events.push(event);
      if (c === 13) {
        if (i + 1 === chunk.length) this.#afterCR = true;
        else if (chunk.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#line += chunk.slice(start);
    this.#count(0);
    return events;
  }

  /** Whether an event was begun and not finished by a blank line. */
  get pending(): boolean {
    return this.#line !== '' || this.#name !== '' || this.#data.length > 0;
  }

  #endLine(line: string): ProgressEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#name = value;
    else if (field === 'data') {
      this.#data.push(value);
      this.#count(value.length);
    }
    return undefined;
  }

  #count(chars: number): void {
    this.#eventChars += chars;
    if (this.#eventChars + this.#line.length > this.#maxEventChars) {
      throw new ProgressStreamError(`An event is longer than ${this.#maxEventChars} characters.`);
    }
  }

  #dispatch(): ProgressEvent | undefined {
    const name = this.#name === '' ? 'message' : this.#name;
    const data = this.#data.join('\n');
    const hadData = this.#data.length > 0;
    this.#name = '';
    this.#data = [];
    this.#eventChars = 0;
    if (!hadData || !Object.hasOwn(EVENT_SCHEMAS, name)) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw new ProgressStreamError(`The ${name} event's data is not JSON.`);
    }
    const parsed = EVENT_SCHEMAS[name as ProgressEventName].safeParse(json);
    if (!parsed.success) {
      throw new ProgressStreamError(`The ${name} event does not match the contract: ${z.prettifyError(parsed.error)}`);
    }
    return { event: name, data: parsed.data } as ProgressEvent;
  }
}

/**
 * The events of a progress stream's body as they arrive. Ends after `image` or `error` (cancelling the
 * rest of the body); a body that ends before either throws ProgressStreamError, as does a bad event.
 */
export async function* readProgressStream(
  body: ReadableStream<Uint8Array>,
  options: { readonly maxEventChars?: number } = {},
): AsyncGenerator<ProgressEvent, void, undefined> {
  const parser = new ProgressStreamParser(options);
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const events = parser.push(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      for (const event of events) {
        yield event;
        if (isFinalEvent(event)) return;
      }
      if (done) throw new ProgressStreamError('The progress stream ended before an image or an error.');
    }
  } finally {
    // After the final event anything more is not ours to read; after a failure, nobody will read it.
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
