// ftfy's mojibake heuristic (ftfy/badness.py): a regex of character pairs and triples that are
// far more likely to be mojibake than intended text, such as an accented lowercase letter
// followed by a currency sign. `isBad` is what decides whether ftfy tries to re-decode a text.
// The alternatives below are ftfy's BADNESS_RE, in its order, with its verbose-mode spacing
// removed; the character classes come from ftfy's own MOJIBAKE_CATEGORIES (ftfy-tables.ts).
import { MOJIBAKE_CATEGORIES as C } from './ftfy-tables';
import { PY_RE_SPACE, PY_RE_WORD } from './python-classes';

const S = `[${PY_RE_SPACE}]`;
const W = `[${PY_RE_WORD}]`;

const BADNESS_ALTERNATIVES = [
  `[${C.c1}]`,
  `[${C.bad}${C.lower_accented}${C.upper_accented}${C.box}${C.start_punctuation}${C.end_punctuation}${C.currency}${C.numeric}${C.law}][${C.bad}]`,
  `[a-zA-Z][${C.lower_common}${C.upper_common}][${C.bad}]`,
  `[${C.bad}][${C.lower_accented}${C.upper_accented}${C.box}${C.start_punctuation}${C.end_punctuation}${C.currency}${C.numeric}${C.law}]`,
  `[${C.lower_accented}${C.lower_common}${C.box}${C.end_punctuation}${C.currency}${C.numeric}][${C.upper_accented}]`,
  `[${C.box}${C.end_punctuation}${C.currency}${C.numeric}][${C.lower_accented}]`,
  `[${C.lower_accented}${C.box}${C.end_punctuation}][${C.currency}]`,
  `${S}[${C.upper_accented}][${C.currency}]`,
  `[${C.upper_accented}${C.box}][${C.numeric}${C.law}]`,
  `[${C.lower_accented}${C.upper_accented}${C.box}${C.currency}${C.end_punctuation}][${C.start_punctuation}][${C.numeric}]`,
  `[${C.lower_accented}${C.upper_accented}${C.currency}${C.numeric}${C.box}${C.law}][${C.end_punctuation}][${C.start_punctuation}]`,
  `[${C.currency}${C.numeric}${C.box}][${C.start_punctuation}]`,
  `[a-z][${C.upper_accented}][${C.start_punctuation}${C.currency}]`,
  `[${C.box}][${C.kaomoji}]`,
  `[${C.lower_accented}${C.upper_accented}${C.currency}${C.numeric}${C.start_punctuation}${C.end_punctuation}${C.law}][${C.box}]`,
  `[${C.box}][${C.end_punctuation}]`,
  `[${C.lower_accented}${C.upper_accented}][${C.start_punctuation}${C.end_punctuation}]${W}`,
  // The ligature œ when not followed by an unaccented Latin letter
  `[\u0152\u0153][^A-Za-z]`,
  // Degree signs after capital letters
  `[${C.upper_accented}]\u00b0`,
  // Common Windows-1252 2-character mojibake that isn't covered by the cases above
  `[\u00c2\u00c3\u00ce\u00d0][\u20ac\u0153\u0160\u0161\u00a2\u00a3\u0178\u017e\u00a0\u00ad\u00ae\u00a9\u00b0\u00b7\u00bb${C.start_punctuation}${C.end_punctuation}\u2013\u2014\u00b4]`,
  `\u00d7[\u00b2\u00b3]`,
  // Windows-1252 mojibake of Arabic words: four characters
  `[\u00d8\u00d9][${C.common}${C.currency}${C.bad}${C.numeric}${C.start_punctuation}\u0178\u0160\u00ae\u00b0\u00b5\u00bb]` +
    `[\u00d8\u00d9][${C.common}${C.currency}${C.bad}${C.numeric}${C.start_punctuation}\u0178\u0160\u00ae\u00b0\u00b5\u00bb]`,
  // Windows-1252 mojibake that starts 3-character sequences for some South Asian alphabets
  `\u00e0[\u00b2\u00b5\u00b9\u00bc\u00bd\u00be]`,
  // MacRoman mojibake that isn't covered by the cases above
  `\u221a[\u00b1\u2202\u2020\u2260\u00ae\u2122\u00b4\u2264\u2265\u00a5\u00b5\u00f8]`,
  `\u2248[\u00b0\u00a2]`,
  `\u201a\u00c4[\u00ec\u00ee\u00ef\u00f2\u00f4\u00fa\u00f9\u00fb\u2020\u00b0\u00a2\u03c0]`,
  `\u201a[\u00e2\u00f3][\u00e0\u00e4\u00b0\u00ea]`,
  // Windows-1251 mojibake of characters in the U+2000 range
  `\u0432\u0402`,
  // Windows-1251 mojibake of Latin-1 characters and/or the Cyrillic alphabet: three characters
  `[\u0412\u0413\u0420\u0421][${C.c1}${C.bad}${C.start_punctuation}${C.end_punctuation}${C.currency}\u00b0\u00b5][\u0412\u0413\u0420\u0421]`,
  // Windows-1251 on top of Latin-1 mojibake of Windows-1252; Python's '.' excludes only '\n'
  `\u0413\u045e\u0412\u0402\u0412[^\\n][A-Za-z ]`,
  // Windows-1252 encodings of 'à' and 'á', as well as \xa0 itself
  `\u00c3[\u00a0\u00a1]`,
  `[a-z]${S}?[\u00c3\u00c2][ ]`,
  `^[\u00c3\u00c2][ ]`,
  // Cases where Â precedes a character as an encoding of exactly the same character
  `[a-z.,?!${C.end_punctuation}]\u00c2[ ${C.start_punctuation}${C.end_punctuation}]`,
  // Windows-1253 mojibake of characters in the U+2000 range
  `\u03b2\u20ac[\u2122\u00a0\u0386\u00ad\u00ae\u00b0]`,
  // Windows-1253 mojibake of Latin-1 characters and/or the Greek alphabet
  `[\u0392\u0393\u039e\u039f][${C.c1}${C.bad}${C.start_punctuation}${C.end_punctuation}${C.currency}\u00b0][\u0392\u0393\u039e\u039f]`,
  // Windows-1257 mojibake of characters in the U+2000 range
  `\u0101\u20ac`,
];

const BADNESS = new RegExp(BADNESS_ALTERNATIVES.join('|'), 'u');

/** `ftfy.badness.is_bad`: whether the text contains at least one likely-mojibake sequence. */
export function isBad(text: string): boolean {
  return BADNESS.test(text);
}
