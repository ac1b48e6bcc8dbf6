// An error answered as a picture, for requests that will display it (an `<img>`; see
// edge/request/wants-picture.ts): an SVG of the size the request asked for (or its model's default
// size) saying the status, a one-line reason and, where there is one, when to retry. Everything else
// about the answer is the problem's: the status code, Retry-After, RateLimit and WWW-Authenticate.
// It is never cached (no-store, like every problem answer) and it is inert: every text is escaped XML
// character data, the SVG has no script, no link and no external reference, and its
// Content-Security-Policy forbids everything should someone open it as a document.
import type { ProblemInit } from '../contract';
import type { EdgeConfig, ModelProfile } from './config';
import { CORS_HEADERS } from './responses';

export interface PictureSize {
  readonly width: number;
  readonly height: number;
}

/** The answer varies with how the client asked; a shared cache must not give one client's to another. */
export const ERROR_VARY = 'Accept, Sec-Fetch-Dest';

const PICTURE_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

/**
 * The size of the picture the request asked for, read leniently (the request may be the very reason
 * for the error): its `width`/`height` where they are plain numbers within its model's limits, else
 * the model's defaults; the default model where `model` names none.
 */
export function pictureSizeFor(url: URL, config: EdgeConfig): PictureSize {
  const params = url.searchParams;
  const model = config.models.find((m) => m.name === params.get('model')) ?? config.defaultModel;
  return {
    width: side(params.get('width'), model, model.defaults.width),
    height: side(params.get('height'), model, model.defaults.height),
  };
}

function side(value: string | null, model: ModelProfile, fallback: number): number {
  if (value === null || !/^[0-9]{1,5}$/.test(value)) return fallback;
  const n = Number(value);
  return n >= model.limits.min_side && n <= model.limits.max_side ? n : fallback;
}

export function errorPictureResponse(problem: ProblemInit, size: PictureSize): Response {
  const headers = new Headers({
    ...CORS_HEADERS,
    ...problem.headers,
    'Content-Type': 'image/svg+xml; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': PICTURE_CSP,
    'X-Content-Type-Options': 'nosniff',
    Vary: ERROR_VARY,
  });
  const seconds = problem.retryAfterSeconds;
  const retryAfter = seconds === undefined ? undefined : Math.max(0, Math.ceil(seconds));
  if (retryAfter !== undefined) headers.set('Retry-After', String(retryAfter));
  return new Response(errorPictureSvg(problem, size, retryAfter), { status: problem.status, headers });
}

/** Characters per line are estimated from the font size: a sans-serif character is about 0.58 em. */
const CHARACTER_WIDTH_EM = 0.58;
const LINE_HEIGHT_EM = 1.5;

export function errorPictureSvg(problem: ProblemInit, size: PictureSize, retryAfterSeconds?: number): string {
  const { width, height } = size;
  const reason = problem.detail ?? problem.title;
  const lines = [`${problem.status} ${problem.title}`, reason];
  if (retryAfterSeconds !== undefined) lines.push(`Try again in ${retryAfterSeconds} s`);
  // As large as fits both ways, from 6 px (legible when zoomed) to 24 px.
  const padding = Math.max(2, Math.round(width / 24));
  const fitsHeight = Math.floor(height / (lines.length * LINE_HEIGHT_EM + 1));
  const fontSize = Math.max(6, Math.min(24, Math.floor(width / 22), fitsHeight));
  const maxCharacters = Math.max(4, Math.floor((width - 2 * padding) / (fontSize * CHARACTER_WIDTH_EM)));
  const lineHeight = fontSize * LINE_HEIGHT_EM;
  const top = height / 2 - ((lines.length - 1) * lineHeight) / 2;
  const texts = lines.map((line, i) => {
    const y = round(top + i * lineHeight);
    const weight = i === 0 ? ' font-weight="bold" fill="#b91c1c"' : '';
    return `<text x="${round(width / 2)}" y="${y}"${weight}>${xmlText(shorten(line, maxCharacters))}</text>`;
  });
  const label = xmlText(shorten(lines.join('. '), 500));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
      ` role="img" aria-label="${label}">`,
    `<title>${label}</title>`,
    `<rect width="100%" height="100%" fill="#f3f4f6"/>`,
    `<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" fill="none" stroke="#9ca3af"/>`,
    `<g font-family="system-ui, sans-serif" font-size="${fontSize}" fill="#1f2937" text-anchor="middle"` +
      ' dominant-baseline="middle">',
    ...texts,
    '</g>',
    '</svg>',
  ].join('\n');
}

/** One line of at most `max` characters (code points, so no pair is cut), with an ellipsis when cut. */
function shorten(text: string, max: number): string {
  const characters = Array.from(text.replace(/\s+/g, ' ').trim());
  return characters.length <= max ? characters.join('') : `${characters.slice(0, max - 1).join('')}…`;
}

/**
 * Text as XML character data, safe in element content and in a double-quoted attribute: the five
 * predefined entities escaped, and what XML 1.0 does not allow in a document (§2.2: C0 controls other
 * than tab and newlines, U+FFFE, U+FFFF, unpaired surrogates) replaced by U+FFFD.
 */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function xmlText(text: string): string {
  return text
    .replace(NOT_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
