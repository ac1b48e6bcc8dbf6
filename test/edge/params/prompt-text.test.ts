// Prompt canonicalisation: NFC, whitespace collapsed and trimmed; control characters refused.
import { describe, expect, it } from 'vitest';
import { hasControlCharacter, normalizePromptText } from '../../../edge/request/image-query';

describe('prompt text', () => {
  it.each([
    ['  a   lighthouse  ', 'a lighthouse'],
    ['a\u00a0lighthouse\u3000at\u2028dusk', 'a lighthouse at dusk'],
    ['cafe\u0301', 'caf\u00e9'], // e + combining acute → é (NFC)
    ['\u212b', '\u00c5'], // ANGSTROM SIGN → A with ring above (NFC maps the singleton)
  ])('normalises %j to %j', (input, expected) => {
    expect(normalizePromptText(input)).toBe(expected);
  });

  it.each(['\u0000', '\t', '\r\n', '\u007f', '\u0085'])('finds the control character %j', (c) => {
    expect(hasControlCharacter(`a${c}b`)).toBe(true);
  });

  it('does not mistake ordinary text for control characters', () => {
    expect(hasControlCharacter('a lighthouse, 灯台 — «phare» 🌅')).toBe(false);
  });
});
