// The progress stream's wire (contract/progress-stream.ts): what the serializer writes, and the
// parser's reading of the SSE rules — any line ending (even a CRLF split between chunks), comments,
// multi-line data, unnamed and unknown events skipped, multi-byte characters cut between chunks —
// and its refusals: bad JSON, an event that breaks its schema, an event over the size cap, a stream
// that ends before its image or error. (The real service's stream is parsed cut at every byte in
// test/gpu-function/server/progress-stream.test.ts.)
import { describe, expect, it } from 'vitest';
import {
  formatProgressEvent,
  HEARTBEAT,
  imageEventPng,
  type ProgressEvent,
  ProgressStreamError,
  ProgressStreamParser,
  readProgressStream,
} from '../../contract';

const QUEUED: ProgressEvent = { event: 'queued', data: { position: 2, seconds_ahead: 1.5 } };
const STEP: ProgressEvent = { event: 'step', data: { step: 1, steps: 4 } };
const ERROR: ProgressEvent = {
  event: 'error',
  data: { type: 'urn:x', title: 'Délai dépassé — 504', status: 504, detail: 'line one\nline two 🎨', retry_after: 3 },
};
const IMAGE: ProgressEvent = {
  event: 'image',
  data: { seed: '4294967295', model: 'org/model@abc', server_timing: 'queue;dur=1', png: 'iVBORw0KGgo=' },
};

function streamOf(chunks: readonly (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function readAll(chunks: readonly (string | Uint8Array)[]): Promise<ProgressEvent[]> {
  const events: ProgressEvent[] = [];
  for await (const event of readProgressStream(streamOf(chunks))) events.push(event);
  return events;
}

describe('formatProgressEvent', () => {
  it('writes the event name and one line of JSON', () => {
    expect(formatProgressEvent(STEP)).toBe('event: step\ndata: {"step":1,"steps":4}\n\n');
    expect(formatProgressEvent(ERROR).split('\n')).toHaveLength(4);
  });
});

describe('ProgressStreamParser', () => {
  it('reads what the serializer wrote, skipping comments', () => {
    const parser = new ProgressStreamParser();
    const text = [QUEUED, STEP].map(formatProgressEvent).join(HEARTBEAT) + HEARTBEAT + formatProgressEvent(ERROR);
    expect(parser.push(text)).toEqual([QUEUED, STEP, ERROR]);
    expect(parser.pending).toBe(false);
  });

  it('takes CRLF, CR and LF line endings, data lines joined, and skips unnamed and unknown events', () => {
    const parser = new ProgressStreamParser();
    const text = 'data: {"x":1}\r\n\r\nevent: later\ndata: 1\n\nevent:step\rdata:{"step":2,\ndata: "steps":4}\r\r';
    expect(parser.push(text)).toEqual([{ event: 'step', data: { step: 2, steps: 4 } }]);
  });

  it('treats a CRLF cut between chunks as one line ending', () => {
    const parser = new ProgressStreamParser();
    expect(parser.push('event: step\r')).toEqual([]);
    expect(parser.push('\ndata: {"step":1,"steps":1}\r')).toEqual([]);
    expect(parser.push('\n\r\n')).toEqual([{ event: 'step', data: { step: 1, steps: 1 } }]);
  });

  it.each([
    ['bad JSON', 'event: step\ndata: {step\n\n', /not JSON/],
    ['a step past the last', 'event: step\ndata: {"step":5,"steps":4}\n\n', /does not match/],
    ['an unknown member', 'event: queued\ndata: {"position":0,"seconds_ahead":null,"eta":1}\n\n', /does not match/],
    ['a png that is not base64', `event: image\ndata: ${JSON.stringify({ ...IMAGE.data, png: '<svg>' })}\n\n`, /base64/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => new ProgressStreamParser().push(text)).toThrow(message);
    expect(() => new ProgressStreamParser().push(text)).toThrow(ProgressStreamError);
  });

  it('refuses an event longer than its cap, even one that never ends its line', () => {
    const parser = new ProgressStreamParser({ maxEventChars: 100 });
    expect(() => parser.push(`event: image\ndata: ${'A'.repeat(101)}`)).toThrow(/longer than 100/);
    const lines = new ProgressStreamParser({ maxEventChars: 100 });
    lines.push(`data: ${'A'.repeat(60)}\n`);
    expect(() => lines.push(`data: ${'A'.repeat(60)}\n`)).toThrow(/longer than 100/);
  });
});

describe('readProgressStream', () => {
  const bytes = new TextEncoder().encode([QUEUED, STEP, ERROR].map(formatProgressEvent).join('\r\n'));

  it('reads the events of chunks cut at every byte, multi-byte characters included', async () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await readAll([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual([QUEUED, STEP, ERROR]);
    }
  });

  it('reads one byte at a time', async () => {
    expect(await readAll(Array.from(bytes, (byte) => Uint8Array.of(byte)))).toEqual([QUEUED, STEP, ERROR]);
  });

  it('ends after the final event, whatever follows', async () => {
    expect(await readAll([formatProgressEvent(IMAGE), 'event: step\ndata: nonsense\n\n'])).toEqual([IMAGE]);
  });

  it('throws when the stream ends before an image or an error', async () => {
    await expect(readAll([formatProgressEvent(QUEUED), HEARTBEAT])).rejects.toThrow(/ended before an image or an error/);
    await expect(readAll([formatProgressEvent(QUEUED), 'event: image\ndata: {'])).rejects.toThrow(ProgressStreamError);
  });
});

describe('imageEventPng', () => {
  it('decodes the base64 PNG', () => {
    if (IMAGE.event !== 'image') throw new Error('not an image');
    expect(Array.from(imageEventPng(IMAGE.data))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});
