// Whether the client of a request is showing a picture (an `<img>`, a CSS background) rather than
// reading an API answer, so that an error can be answered as a picture it will display instead of a
// broken-image icon. Two signals, in order:
//   1. `Sec-Fetch-Dest: image` (Fetch Metadata, https://w3c.github.io/webappsec-fetch-metadata/): set by
//      the browser itself for image loads, and not settable by page scripts.
//   2. `Accept` (RFC 9110 §12.5.1) that gives an SVG picture a higher quality value than problem+json.
//      Every browser's image Accept does (Chromium: `image/avif,image/webp,image/apng,image/svg+xml,
//      image/*,*/*;q=0.8`); API clients (`*/*`, `application/json`, or the demo page's
//      `image/png, application/problem+json`) do not, and keep getting problem+json. A tie is JSON.
// A media range's quality is the one of the most specific range that matches (§12.5.1: `image/svg+xml`
// over `image/*` over `*/*`); parameters other than q do not change what a range matches here.

/** The types an error can be answered in: the picture (SVG) and the problem (JSON). */
const PICTURE_TYPE = 'image/svg+xml';
const JSON_TYPES = ['application/problem+json', 'application/json'] as const;

export interface RequestHeaders {
  get(name: string): string | null | undefined;
}

export function wantsPicture(headers: RequestHeaders): boolean {
  if (headers.get('Sec-Fetch-Dest')?.trim().toLowerCase() === 'image') return true;
  const accept = headers.get('Accept');
  if (accept === null || accept === undefined) return false;
  const ranges = parseAccept(accept);
  const jsonQuality = Math.max(...JSON_TYPES.map((type) => qualityOf(type, ranges)));
  return qualityOf(PICTURE_TYPE, ranges) > jsonQuality;
}

export interface MediaRange {
  /** Lower case, e.g. `image/*`. */
  readonly type: string;
  readonly subtype: string;
  /** 0 … 1 (RFC 9110 §12.4.2: at most three decimals). */
  readonly quality: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const QVALUE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The media ranges of an Accept field. Malformed members (a range that is not `type/subtype`, a q that
 * is not a qvalue) are skipped, as a server may ignore what it cannot parse; commas and semicolons
 * inside quoted parameter values do not split.
 */
export function parseAccept(field: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const member of splitOutsideQuotes(field, ',')) {
    const [range = '', ...params] = splitOutsideQuotes(member, ';').map((part) => part.trim());
    const slash = range.indexOf('/');
    const type = range.slice(0, slash).toLowerCase();
    const subtype = range.slice(slash + 1).toLowerCase();
    if (slash === -1 || !TOKEN.test(type) || !TOKEN.test(subtype) || (type === '*' && subtype !== '*')) continue;
    let quality = 1;
    let valid = true;
    for (const param of params) {
      const equals = param.indexOf('=');
      if (equals === -1 || param.slice(0, equals).trim().toLowerCase() !== 'q') continue;
      const value = param.slice(equals + 1).trim();
      if (QVALUE.test(value)) quality = Number(value);
      else valid = false;
    }
    if (valid) ranges.push({ type, subtype, quality });
  }
  return ranges;
}

/** The quality the ranges give `mediaType`: that of the most specific matching range, 0 when none matches. */
export function qualityOf(mediaType: string, ranges: readonly MediaRange[]): number {
  const [type, subtype] = mediaType.split('/');
  let best = { specificity: -1, quality: 0 };
  for (const range of ranges) {
    let specificity: number;
    if (range.type === type && range.subtype === subtype) specificity = 2;
    else if (range.type === type && range.subtype === '*') specificity = 1;
    else if (range.type === '*') specificity = 0;
    else continue;
    // Equally specific ranges (a type listed twice): the best quality wins.
    if (specificity > best.specificity || (specificity === best.specificity && range.quality > best.quality)) {
      best = { specificity, quality: range.quality };
    }
  }
  return best.quality;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if (char === '\\' && quoted) i++; // quoted-pair (RFC 9110 §5.6.4)
    else if (char === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
