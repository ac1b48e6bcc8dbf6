// Reads from the image store whose failure must never look like a miss. A miss makes the edge
// generate, so an unreadable store (S3 down, R2 erroring, wrong credentials) would otherwise turn
// every request into a GPU call: a regeneration storm. Instead the request is answered 503 with
// Retry-After, and the failure is logged (the error, never a prompt).
import { storageUnavailable } from '../errors/problems';
import { log } from '../log';

/** Long enough for a store to recover from a blip, short enough that a page's <img> retry helps. */
export const STORE_RETRY_AFTER_SECONDS = 5;

export async function readStore<T>(operation: 'get' | 'head', key: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    log('error', 'store_read_failed', { operation, key, error: String(error) });
    throw storageUnavailable(STORE_RETRY_AFTER_SECONDS, error);
  }
}
