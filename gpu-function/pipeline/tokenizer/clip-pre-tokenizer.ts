// Splits cleaned prompt text into CLIP's words and maps each word's UTF-8 bytes onto printable
// characters, the input of the byte-level BPE (openai/CLIP clip/simple_tokenizer.py: `self.pat`,
// `bytes_to_unicode`, and the loop in `encode`).
import { PY_REGEX_SPACE } from './ftfy/python-classes';

/** The special tokens CLIP's pattern matches first and its BPE cache returns unchanged. */
export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';

/**
 * CLIP's pattern, compiled with re.IGNORECASE by the `regex` module: special tokens, English
 * contractions, runs of letters, single digits, and runs of anything else but whitespace.
 * JavaScript's /iu uses Unicode simple case folding as `regex` does ('ſ matches 's).
 */
const WORD = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${PY_REGEX_SPACE}\\p{L}\\p{N}]+`,
  'giu',
);

/**
 * `re.findall(self.pat, text)`. One quirk of the `regex` module is reproduced by hand: with
 * IGNORECASE, U+0345 COMBINING GREEK YPOGEGRAMMENI (which case-folds to ι) matches neither
 * `[\p{L}]` nor `[^\s\p{L}\p{N}]`, so findall skips it like whitespace, while JavaScript's /iu
 * counts it as a letter. Checked over every code point assigned in Node's Unicode tables: this is
 * the only character the two engines split differently.
 */
export function splitWords(cleanedText: string): string[] {
  return cleanedText.replaceAll('\u0345', ' ').match(WORD) ?? [];
}

/**
 * `bytes_to_unicode()`: the 188 printable bytes stand for themselves; the other 68 (controls,
 * space, ...) map to U+0100 upwards, so BPE never sees whitespace or control characters.
 */
const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) table.push(String.fromCodePoint(printable(b) ? b : 256 + next++));
  return table;
})();

const utf8 = new TextEncoder();

/** `''.join(self.byte_encoder[b] for b in token.encode('utf-8'))`. */
export function byteLevelEncode(word: string): string {
  let out = '';
  for (const byte of utf8.encode(word)) out += BYTE_TO_CHAR[byte]!;
  return out;
}
