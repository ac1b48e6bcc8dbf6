// Reads a JSON request body and checks it against its wire schema: a size bound first (a Content-Length
// over it, or a stream that grows past it, is a 413 before anything is parsed), then JSON, then the
// schema, each failure a problem naming what was wrong.
import type { z } from 'zod';
import { paramErrorsFrom, readCapped } from '../../contract';
import { bodyTooLarge, invalidBody, unsupportedMediaType } from './problems';

/** A prompt is at most 1000 characters (4 bytes each in UTF-8, 6 as a JSON escape); twice over plus fields. */
export const MAX_BODY_BYTES = 16 * 1024;

/** How a body's zod issues name their members: unknown ones are refused, not ignored. */
const BODY_PARAM_NAMES = { unknown: 'is not a field of this request body', whole: 'body' };

export async function readJsonBody<T>(request: Request, schema: z.ZodType<T>, limit = MAX_BODY_BYTES): Promise<T> {
  const type = request.headers.get('Content-Type') ?? '';
  // RFC 8259 §11 registers application/json; structured syntax suffixes (+json, RFC 6839) are JSON too.
  if (!/^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(type)) throw unsupportedMediaType();
  const bytes = await readCapped(request.body, limit, request.headers.get('Content-Length'));
  if (bytes === null) throw bodyTooLarge(limit);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: false }).decode(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'parse error';
    throw invalidBody([{ param: 'body', message: `is not JSON (${reason})` }]);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalidBody(paramErrorsFrom(parsed.error, BODY_PARAM_NAMES));
  return parsed.data;
}
