// How prompt text is made canonical before it is validated, hashed and sent: Unicode NFC (UAX #15) so
// precomposed and combining spellings are one prompt, whitespace runs collapsed to one space and
// trimmed, so spacing differences that the CLIP tokenizer ignores anyway do not make a new key.

/** C0 and C1 control characters (including NUL, tab, CR and LF) are refused, not normalised. */
const CONTROL = /\p{Cc}/u;

export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}

export function normalizePromptText(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}
