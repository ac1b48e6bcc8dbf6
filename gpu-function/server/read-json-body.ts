// Reads a JSON request body with a size bound: the Content-Length is checked before anything is read,
// and the stream is counted as it arrives (a chunked body has no length to check up front).
import { bodyTooLarge, invalidBody, unsupportedMediaType } from './problems';

/** A prompt is at most 1000 characters (4 bytes each in UTF-8, 6 as a JSON escape); twice over plus fields. */
export const MAX_BODY_BYTES = 16 * 1024;

export async function readJsonBody(request: Request, limit: number = MAX_BODY_BYTES): Promise<unknown> {
  const type = request.headers.get('Content-Type') ?? '';
  // RFC 8259 §11 registers application/json; structured syntax suffixes (+json, RFC 6839) are JSON too.
  if (!/^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(type)) throw unsupportedMediaType();
  const declared = Number(request.headers.get('Content-Length') ?? '0');
  if (declared > limit) throw bodyTooLarge(limit);

  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw bodyTooLarge(limit);
      }
      chunks.push(value);
    }
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidBody([{ param: 'body', message: `is not JSON (${error instanceof Error ? error.message : 'parse error'})` }]);
  }
}
