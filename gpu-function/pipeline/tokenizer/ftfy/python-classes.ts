// Python's Unicode character classes, spelled out for JavaScript regular expressions, because
// the two languages disagree at the edges: JavaScript's \s lacks U+001C–U+001F and U+0085 and
// adds U+FEFF; its \w (even with the u flag) is ASCII-only.

/** `\s` of Python's `re` on str = `str.isspace()` (Unicode White_Space plus U+001C–U+001F). */
export const PY_RE_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/**
 * `\s` of the third-party `regex` module, which openai/CLIP's tokenizer uses: the Unicode
 * White_Space property, so without U+001C–U+001F.
 */
export const PY_REGEX_SPACE = '\\t\\n\\v\\f\\r\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** `\w` of Python's `re` on str: letters, numbers (categories L* and N*) and '_'. */
export const PY_RE_WORD = '\\p{L}\\p{N}_';

/** `str.strip()` with no argument: removes `str.isspace()` characters from both ends. */
export function pyStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}
const PY_STRIP = new RegExp(`^[${PY_RE_SPACE}]+|[${PY_RE_SPACE}]+$`, 'gu');
