// A generation's deadline: REQUEST_TIMEOUT_MS from the request's arrival, or sooner when the caller
// says how long it will wait in `X-Request-Timeout-Ms` (the edge sends what is left of its own budget,
// so work nobody waits for any more is dropped from the queue). The header only narrows the setting.
import { HEADERS } from '../../../contract';
import { invalidHeader } from '../problems';

/** Milliseconds the request may still take; throws a 400 problem for a header that is not a positive integer. */
export function requestTimeoutMs(header: string | undefined, configuredMs: number): number {
  if (header === undefined) return configuredMs;
  const text = header.trim();
  if (!/^\d{1,10}$/.test(text) || Number(text) < 1) {
    throw invalidHeader(HEADERS.requestTimeout, 'must be a whole number of milliseconds from 1');
  }
  return Math.min(Number(text), configuredMs);
}
