// ftfy's character-level fixers (ftfy/fixes.py, tables from ftfy/chardata.py), each applied by
// fix-text.ts in ftfy's order. Comments say what each one is for in a prompt.
import { latin1AsSloppyWindows1252 } from './codecs';
import { semicolonEntity, htmlUnescape } from '../html-unescape';

/** HTML_ENTITY_RE: only references that end in ';' (so "this&not that" stays as written). */
const HTML_ENTITY = /&#?[0-9A-Za-z]{1,24};/gu;

/**
 * `unescape_html`: `&eacute;` → é, `&#x2019;` → ’, and all-caps names of lower-case entities
 * (`&EACUTE;` → É, `&SZLIG;` → SS) when the all-caps form is not an entity of its own.
 */
export function unescapeHtml(text: string): string {
  return text.replace(HTML_ENTITY, (reference) => {
    if (reference.startsWith('&#')) {
      const unescaped = htmlUnescape(reference);
      // If html.unescape decoded only part of it, the semicolon was not consumed: keep it all.
      return unescaped.includes(';') ? reference : unescaped;
    }
    const name = reference.slice(1, -1);
    const exact = semicolonEntity(name);
    if (exact !== undefined) return exact;
    // chardata._build_html_entities: `&NAME;` for each lower-case `name;`, if html.unescape leaves `&NAME;` alone.
    const lower = name.toLowerCase();
    if (name !== lower.toUpperCase()) return reference;
    const value = semicolonEntity(lower);
    if (value === undefined || htmlUnescape(reference) !== reference) return reference;
    return value.toUpperCase();
  });
}

const C1_CONTROL = /[\x80-\x9f]/gu;

/** `fix_c1_controls`: C1 controls (U+0080–U+009F) read as the Windows-1252 characters of those bytes, as browsers do. */
export function fixC1Controls(text: string): string {
  return text.replace(C1_CONTROL, latin1AsSloppyWindows1252);
}

/** Whether the text has a C1 control character (chardata.C1_CONTROL_RE.search). */
export function hasC1Control(text: string): boolean {
  return /[\x80-\x9f]/u.test(text);
}

/** chardata.LIGATURES: Latin typographic ligatures and legacy digraphs, taken apart (ﬁ → fi). */
const LIGATURES: Readonly<Record<string, string>> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn', '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz',
  '\u01c4': 'D\u017d', '\u01c5': 'D\u017e', '\u01c6': 'd\u017e', '\u01c7': 'LJ', '\u01c8': 'Lj', '\u01c9': 'lj',
  '\u01ca': 'NJ', '\u01cb': 'Nj', '\u01cc': 'nj', '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl',
  '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': '\u017ft', '\ufb06': 'st',
};
const LIGATURE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'gu');

/** `fix_latin_ligatures`. */
export function fixLatinLigatures(text: string): string {
  return text.replace(LIGATURE, (ch) => LIGATURES[ch]!);
}

/**
 * `fix_character_width`: full-width and half-width forms (U+FF01–U+FFEF) become their NFKC
 * equivalents (ＬＯＵＤ → LOUD, ｶ → カ), and the ideographic space U+3000 a plain space.
 * chardata._build_width_map keeps only characters NFKC changes, which the replace reproduces.
 */
export function fixCharacterWidth(text: string): string {
  return text.replace(/[\u3000\uff01-\uffef]/gu, (ch) => (ch === '\u3000' ? ' ' : ch.normalize('NFKC')));
}

/** `uncurl_quotes`: ‘ ’ ‚ ‛ ʼ → ' and “ ” „ ‟ → ". */
export function uncurlQuotes(text: string): string {
  return text.replace(/[\u201c-\u201f]/gu, '"').replace(/[\u02bc\u2018-\u201b]/gu, "'");
}

/** `fix_line_breaks`: CRLF, CR, U+2028, U+2029 and NEL all become \n. */
export function fixLineBreaks(text: string): string {
  return text.replaceAll('\r\n', '\n').replaceAll('\r', '\n').replaceAll('\u2028', '\n').replaceAll('\u2029', '\n').replaceAll('\u0085', '\n');
}

/**
 * `fix_surrogates`: in Python a str can hold surrogate code points; paired ones become the
 * character they encode and lone ones U+FFFD. A JavaScript string already reads a valid pair as
 * one character, so only lone surrogates remain to be replaced.
 */
export function fixSurrogates(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}
// Without the u flag a regex sees UTF-16 code units, so it can find unpaired halves.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `remove_terminal_escapes`: ANSI colour codes such as ESC[36;44m (Python's \d is any Unicode digit). */
export function removeTerminalEscapes(text: string): string {
  return text.replace(/\x1b\[(?:\p{Nd}|;)*[a-zA-Z]/gu, '');
}

/**
 * `remove_control_chars` (chardata.CONTROL_CHARS): C0 controls other than \t \n \f \r, DEL, the
 * deprecated Arabic format characters U+206A–U+206F, the BOM U+FEFF and U+FFF9–U+FFFC.
 */
export function removeControlChars(text: string): string {
  return text.replace(/[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/gu, '');
}
