// User metadata over the S3 REST API travels as `x-amz-meta-*` HTTP headers, which carry only
// printable US-ASCII: Node refuses anything above U+00FF and sends U+0080–U+00FF as Latin-1, which
// AWS does not accept as UTF-8. R2's binding stores UTF-8 strings, so to keep the same metadata on
// both, a value that is not plain printable ASCII goes out as RFC 2047 encoded-words
// (`=?UTF-8?B?…?=`, §4.1 "B" encoding), which AWS S3 itself decodes on PUT and re-encodes on GET
// (its "User-defined object metadata" docs); stores that keep headers verbatim (MinIO, R2's S3 API,
// s3rver) hand the same words back. Either way decodeS3Metadata returns the original strings.
import type { ImageMetadata } from '../../storage';

/** RFC 2047 §2: an encoded-word is at most 75 characters. */
const MAX_WORD_LENGTH = 75;
const WORD_PREFIX = '=?UTF-8?B?';
const WORD_SUFFIX = '?=';
/** Bytes per word: the largest multiple of 3 whose base64 fits between prefix and suffix. */
const BYTES_PER_WORD = Math.floor((MAX_WORD_LENGTH - WORD_PREFIX.length - WORD_SUFFIX.length) / 4) * 3;

const ENCODED_WORD = /^=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=$/;

export function encodeS3Metadata(metadata: ImageMetadata): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([name, value]) => [name, encodeValue(value)]));
}

export function decodeS3Metadata(metadata: Readonly<Record<string, string>> | undefined): ImageMetadata {
  return Object.fromEntries(Object.entries(metadata ?? {}).map(([name, value]) => [name, decodeValue(value)]));
}

/** Plain printable ASCII goes as is, unless it could be mistaken for encoded-words or loses its edges. */
export function encodeValue(value: string): string {
  const plain = /^[\x20-\x7e]*$/.test(value) && !value.startsWith('=?') && value === value.trim();
  if (plain) return value;
  // §5 (3): each encoded-word holds whole characters, so chunk by code point, not by byte.
  const encoder = new TextEncoder();
  const words: string[] = [];
  let chunk: number[] = [];
  for (const char of value) {
    const bytes = encoder.encode(char);
    if (chunk.length + bytes.length > BYTES_PER_WORD) {
      words.push(encodedWord(chunk));
      chunk = [];
    }
    chunk.push(...bytes);
  }
  words.push(encodedWord(chunk));
  return words.join(' ');
}

/** A value made only of encoded-words (B or Q, any charset TextDecoder knows) is decoded; others are kept. */
export function decodeValue(value: string): string {
  const words = value.trim().split(/\s+/);
  if (!words.every((w) => ENCODED_WORD.test(w))) return value;
  try {
    // §6.2: white space between adjacent encoded-words is not displayed.
    return words.map(decodeWord).join('');
  } catch {
    return value; // an unknown charset or a malformed word: leave it as stored
  }
}

function encodedWord(bytes: readonly number[]): string {
  return `${WORD_PREFIX}${btoa(String.fromCharCode(...bytes))}${WORD_SUFFIX}`;
}

function decodeWord(word: string): string {
  const [, charset = '', encoding = '', text = ''] = ENCODED_WORD.exec(word) ?? [];
  const bytes = encoding.toUpperCase() === 'B' ? base64Bytes(text) : quotedBytes(text);
  return new TextDecoder(charset.split('*')[0], { fatal: true, ignoreBOM: true }).decode(bytes); // §5: `*lang` suffix (RFC 2231)
}

function base64Bytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** §4.2 "Q" encoding: `_` is a space, `=XX` a byte, anything else itself. */
function quotedBytes(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '_') bytes.push(0x20);
    else if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (char === '=') throw new Error(`malformed Q-encoded word: ${text}`);
    else bytes.push(text.charCodeAt(i));
  }
  return Uint8Array.from(bytes);
}
