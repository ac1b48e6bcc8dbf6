// The byte-level codecs ftfy's mojibake repair needs: the single-byte charmaps it tries
// (ftfy.chardata.CHARMAP_ENCODINGS, including ftfy's "sloppy" Windows codecs from
// ftfy/bad_codecs/sloppy.py), strict UTF-8, and ftfy's "utf-8-variants" decoder
// (ftfy/bad_codecs/utf8_variants.py: CESU-8 surrogate pairs and Java's C0 80 null).
//
// Bytes travel as "binary strings" (one char per byte, U+0000–U+00FF), so the byte regexes of
// ftfy can be written as JavaScript regexes without the u flag.
import { CHARMAP_ENCODINGS, CHARMAP_HIGH_HALF, type CharmapEncoding } from './ftfy-tables';

export type { CharmapEncoding };
export { CHARMAP_ENCODINGS };

/** Thrown where Python raises UnicodeDecodeError / UnicodeEncodeError. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
}

interface Charmap {
  /** The character each byte decodes to. */
  readonly decode: readonly string[];
  /** The byte each character encodes to (the inverse; every table is one-to-one). */
  readonly encode: ReadonlyMap<string, number>;
}

const charmaps = new Map<CharmapEncoding, Charmap>();

function charmap(encoding: CharmapEncoding): Charmap {
  let table = charmaps.get(encoding);
  if (table === undefined) {
    const decode: string[] = [];
    for (let b = 0; b < 0x80; b++) decode.push(String.fromCharCode(b));
    // ftfy's sloppy codecs decode byte 0x1A (SUBSTITUTE) as U+FFFD, so '�' can be encoded.
    if (encoding.startsWith('sloppy-')) decode[0x1a] = '\ufffd';
    decode.push(...CHARMAP_HIGH_HALF[encoding]);
    table = { decode, encode: new Map(decode.map((ch, b) => [ch, b])) };
    charmaps.set(encoding, table);
  }
  return table;
}

/**
 * `ftfy.chardata.possible_encoding`: whether every character of `text` is one the encoding can
 * produce (its regex is `^[\x00-\x19\x1b-\x7f{chars of bytes 80–FF and 1A}]*$`).
 */
export function possibleEncoding(text: string, encoding: CharmapEncoding | 'ascii'): boolean {
  if (encoding === 'ascii') return /^[\x00-\x7f]*$/u.test(text);
  const { encode } = charmap(encoding);
  for (const ch of text) if (!encode.has(ch)) return false;
  return true;
}

/** `text.encode(encoding)` as a binary string. */
export function encodeCharmap(text: string, encoding: CharmapEncoding): string {
  const { encode } = charmap(encoding);
  let out = '';
  for (const ch of text) {
    const byte = encode.get(ch);
    if (byte === undefined) throw new CodecError(`${encoding} cannot encode U+${ch.codePointAt(0)!.toString(16)}`);
    out += String.fromCharCode(byte);
  }
  return out;
}

/** `text.encode('latin-1').decode('windows-1252')` with Python's strict cp1252, which leaves five bytes undefined. */
export function latin1ToWindows1252(text: string): string {
  const sloppy = charmap('sloppy-windows-1252').decode;
  let out = '';
  for (const ch of text) {
    const byte = ch.charCodeAt(0);
    if (ch.length !== 1 || byte > 0xff) throw new CodecError('latin-1 cannot encode the text');
    if (byte === 0x81 || byte === 0x8d || byte === 0x8f || byte === 0x90 || byte === 0x9d) {
      throw new CodecError(`windows-1252 cannot decode byte 0x${byte.toString(16)}`);
    }
    out += byte === 0x1a ? '\x1a' : sloppy[byte]!;
  }
  return out;
}

/** `bytes.decode('sloppy-windows-1252')` for a string of Latin-1 characters (ftfy's `_c1_fixer`). */
export function latin1AsSloppyWindows1252(text: string): string {
  const sloppy = charmap('sloppy-windows-1252').decode;
  let out = '';
  for (const ch of text) out += sloppy[ch.charCodeAt(0)]!;
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Python's strict `bytes.decode('utf-8')`; WHATWG's fatal decoder rejects exactly the same sequences. */
export function decodeUtf8(binary: string): string {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new CodecError('invalid UTF-8');
  }
}

// utf8_variants.py's byte patterns. Python's `$` (no MULTILINE) matches at the end or before a
// final newline, hence (?=\n?$).
const END = '(?=\\n?$)';
const CESU8 = `\\xed(?:[\\xa0-\\xaf]|${END})(?:[\\x80-\\xbf]|${END})(?:\\xed|${END})(?:[\\xb0-\\xbf]|${END})(?:[\\x80-\\xbf]|${END})`;
const CESU8_AT_START = new RegExp(`^${CESU8}`);
const SPECIAL_BYTES = new RegExp(`\\xc0(?:\\x80|${END})|${CESU8}|\\xed(?:[\\xa0-\\xbf]|${END})(?:[\\x80-\\xbf]|${END})`);

/**
 * `bytes.decode('utf-8-variants')`: UTF-8, plus CESU-8 (surrogate pairs encoded as two 3-byte
 * sequences) and C0 80 for U+0000. Anything else invalid raises, as in Python.
 */
export function decodeUtf8Variants(binary: string): string {
  let out = '';
  let rest = binary;
  while (rest.length > 0) {
    const match = SPECIAL_BYTES.exec(rest);
    if (match === null) return out + decodeUtf8(rest);
    if (match.index > 0) {
      out += decodeUtf8(rest.slice(0, match.index));
      rest = rest.slice(match.index);
      continue;
    }
    if (rest.charCodeAt(0) === 0xc0) {
      // `if len(input) > 1: return "\u0000", 2` — whatever the second byte is.
      if (rest.length > 1) {
        out += '\u0000';
        rest = rest.slice(2);
        continue;
      }
      return out + decodeUtf8(rest);
    }
    if (rest.length < 6 || !CESU8_AT_START.test(rest)) {
      // A lone encoded surrogate: the real UTF-8 decoder rejects it.
      return out + decodeUtf8(rest);
    }
    const b = (i: number) => rest.charCodeAt(i);
    const codePoint = ((b(1) & 0x0f) << 16) + ((b(2) & 0x3f) << 10) + ((b(4) & 0x0f) << 6) + (b(5) & 0x3f) + 0x10000;
    out += String.fromCodePoint(codePoint);
    rest = rest.slice(6);
  }
  return out;
}
