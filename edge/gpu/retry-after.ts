// Retry-After (RFC 9110 §10.2.3) is either delay-seconds or an HTTP-date; both become seconds from now.
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^[0-9]{1,9}$/.test(text)) return Number(text);
  // All three HTTP-date forms (RFC 9110 §5.6.7) start with a day name; Date.parse alone would
  // read "1.5" or "-1" as dates.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}
