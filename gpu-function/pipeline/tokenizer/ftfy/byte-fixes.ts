// ftfy's byte-level "transcoders" (ftfy/fixes.py restore_byte_a0 and replace_lossy_sequences,
// with their regexes from ftfy/chardata.py), applied to the bytes of a text re-encoded in a
// single-byte encoding before it is decoded as UTF-8. Bytes are binary strings (codecs.ts).

/**
 * ALTERED_UTF8_RE: UTF-8 sequences that would be valid if a space were byte A0 (a no-break space
 * that some Windows-1252 program turned into a plain space).
 */
export const ALTERED_UTF8 =
  /[\xc2\xc3\xc5\xce\xd0\xd9][ ]|[\xe2\xe3][ ][\x80-\x84\x86-\x9f\xa1-\xbf]|[\xe0-\xe3][\x80-\x84\x86-\x9f\xa1-\xbf][ ]|[\xf0][ ][\x80-\xbf][\x80-\xbf]|[\xf0][\x80-\xbf][ ][\x80-\xbf]|[\xf0][\x80-\xbf][\x80-\xbf][ ]/g;

/** A_GRAVE_WORD_RE: "Ã " as the word "à" (keeping the space), except in Portuguese contractions. */
const A_GRAVE_WORD = /\xc3 (?! |quele|quela|quilo|s )/g;

/**
 * LOSSY_UTF8_RE: UTF-8 (or CESU-8) sequences with bytes lost to U+FFFD (encoded as 1A by the
 * sloppy codecs) or '?', and any remaining 1A.
 */
const LOSSY_UTF8 =
  /[\xc2-\xdf][\x1a]|[\xc2-\xc3][?]|\xed[\xa0-\xaf][\x1a?]\xed[\xb0-\xbf][\x1a?\x80-\xbf]|\xed[\xa0-\xaf][\x1a?\x80-\xbf]\xed[\xb0-\xbf][\x1a?]|[\xe0-\xef][\x1a?][\x1a\x80-\xbf]|[\xe0-\xef][\x1a\x80-\xbf][\x1a?]|[\xf0-\xf4][\x1a?][\x1a\x80-\xbf][\x1a\x80-\xbf]|[\xf0-\xf4][\x1a\x80-\xbf][\x1a?][\x1a\x80-\xbf]|[\xf0-\xf4][\x1a\x80-\xbf][\x1a\x80-\xbf][\x1a?]|\x1a/g;

/** `ftfy.fixes.restore_byte_a0`. */
export function restoreByteA0(binary: string): string {
  return binary.replace(A_GRAVE_WORD, '\xc3\xa0 ').replace(ALTERED_UTF8, (match) => match.replaceAll(' ', '\xa0'));
}

/** `ftfy.fixes.replace_lossy_sequences`: each lossy sequence becomes the UTF-8 bytes of U+FFFD. */
export function replaceLossySequences(binary: string): string {
  return binary.replace(LOSSY_UTF8, '\xef\xbf\xbd');
}
