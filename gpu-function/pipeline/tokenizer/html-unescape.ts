// Python's `html.unescape` (CPython Lib/html/__init__.py), which openai/CLIP's `basic_clean`
// applies twice and ftfy uses for numeric references. It follows the HTML5 rules for both valid
// and invalid references, and Python's quirks are kept: references without a semicolon are
// decoded, the longest known entity prefix wins (`&notit;` → `¬it;`), and code points HTML calls
// invalid become '' or U+FFFD.
//
// Named references are looked up in the WHATWG entity table of the `entities` package, the same
// table as Python's html.entities.html5; its legacy-mode decoder picks the longest entity prefix
// exactly as Python's loop over prefixes does.
import { decodeHTML, decodeHTMLStrict, DecodingMode } from 'entities';

/** Python's `_charref`: numeric references, then up to 32 name characters and an optional ';'. */
const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** HTML5's replacements for numeric references to C1 controls and NUL (Python's `_invalid_charrefs`). */
const INVALID_CHARREFS: ReadonlyMap<number, string> = new Map([
  [0x00, '\ufffd'], [0x0d, '\r'], [0x80, '\u20ac'], [0x81, '\x81'], [0x82, '\u201a'], [0x83, '\u0192'],
  [0x84, '\u201e'], [0x85, '\u2026'], [0x86, '\u2020'], [0x87, '\u2021'], [0x88, '\u02c6'], [0x89, '\u2030'],
  [0x8a, '\u0160'], [0x8b, '\u2039'], [0x8c, '\u0152'], [0x8d, '\x8d'], [0x8e, '\u017d'], [0x8f, '\x8f'],
  [0x90, '\x90'], [0x91, '\u2018'], [0x92, '\u2019'], [0x93, '\u201c'], [0x94, '\u201d'], [0x95, '\u2022'],
  [0x96, '\u2013'], [0x97, '\u2014'], [0x98, '\u02dc'], [0x99, '\u2122'], [0x9a, '\u0161'], [0x9b, '\u203a'],
  [0x9c, '\u0153'], [0x9d, '\x9d'], [0x9e, '\u017e'], [0x9f, '\u0178'],
]);

/** Python's `_invalid_codepoints`: references to these decode to nothing. */
function isInvalidCodePoint(cp: number): boolean {
  return (
    (cp >= 0x1 && cp <= 0x8) ||
    cp === 0xb ||
    (cp >= 0xe && cp <= 0x1f) ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) ||
    (cp & 0xfffe) === 0xfffe // U+xFFFE and U+xFFFF of every plane
  );
}

/** Python's `html.unescape(s)`. */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF, (_match, reference: string) => replaceCharref(reference));
}

/** `_replace_charref` for the part after '&'. */
function replaceCharref(reference: string): string {
  if (reference.startsWith('#')) {
    const hex = reference[1] === 'x' || reference[1] === 'X';
    const digits = reference.slice(hex ? 2 : 1).replace(/;$/u, '');
    // Beyond U+10FFFF the exact value does not matter; parseInt's float is enough to compare.
    const cp = Number.parseInt(digits, hex ? 16 : 10);
    const replacement = INVALID_CHARREFS.get(cp);
    if (replacement !== undefined) return replacement;
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return '\ufffd';
    if (isInvalidCodePoint(cp)) return '';
    return String.fromCodePoint(cp);
  }
  // Named: the whole name if it is an entity, else the longest legacy (no-semicolon) entity
  // prefix followed by the rest, else unchanged. The reference holds no '&', so the decoder
  // sees exactly one entity at position 0.
  return decodeHTML(`&${reference}`, DecodingMode.Legacy);
}

/** The value of `&name;` when `name;` is an HTML5 entity (semicolon form only), else undefined. */
export function semicolonEntity(name: string): string | undefined {
  if (!/^[0-9A-Za-z]+$/u.test(name)) return undefined;
  const reference = `&${name};`;
  // Strict mode decodes only references that end in ';', and the only ';' is the last character,
  // so a change means the whole name matched.
  const decoded = decodeHTMLStrict(reference);
  return decoded === reference ? undefined : decoded;
}
