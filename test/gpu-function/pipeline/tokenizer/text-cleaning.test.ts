// The Python text functions the CLIP tokenizer ports, against Python's own output:
// ftfy.fix_text (ftfy 6.3) and html.unescape. text-references.json was made by
// make-text-references.py in /work/team/pyref (see there); one generic test per table.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixText } from '../../../../gpu-function/pipeline/tokenizer/ftfy/fix-text';
import { isBad } from '../../../../gpu-function/pipeline/tokenizer/ftfy/badness';
import { htmlUnescape } from '../../../../gpu-function/pipeline/tokenizer/html-unescape';
import { cleanPromptText } from '../../../../gpu-function/pipeline/tokenizer/clip-text-cleaning';

const references = JSON.parse(readFileSync(new URL('./text-references.json', import.meta.url), 'utf8')) as {
  fix_text: [string, string][];
  html_unescape: [string, string][];
};

describe('fixText equals ftfy.fix_text', () => {
  it('has a table that exercises the fixers', () => {
    const changed = references.fix_text.filter(([input, output]) => input !== output).length;
    expect(changed).toBeGreaterThan(300);
  });

  it.each(references.fix_text)('fix_text(%j) = %j', (input, expected) => {
    expect(fixText(input)).toBe(expected);
  });
});

describe('htmlUnescape equals html.unescape', () => {
  it.each(references.html_unescape)('unescape(%j) = %j', (input, expected) => {
    expect(htmlUnescape(input)).toBe(expected);
  });
});

describe('what the cleaning does to prompts', () => {
  it.each([
    ['cafÃ©', 'café'], // UTF-8 read as Latin-1
    ['cafÃƒÂ©', 'café'], // two layers of it
    ['â€œquotedâ€\x9d', '"quoted"'], // Windows-1252 mojibake of curly quotes, then uncurled
    ['ﬁsh', 'fish'],
    ['ＬＯＵＤ　ＮＯＩＳＥＳ', 'loud noises'],
    ['&amp;amp;amp;', '&'], // ftfy unescapes until nothing changes, then html.unescape twice
    ['<i>x</i> &amp;amp;amp;', '<i>x</i> &amp;'], // with '<' ftfy leaves entities: only the two unescapes
    ['  Tabs\tand\r\nNEL\x85 ', 'tabs and nel…'], // C1 NEL is read as Windows-1252 '…' before line breaks are fixed
    ['\x1c file \x1f', 'file'],
  ])('cleans %j to %j', (prompt, cleaned) => {
    expect(cleanPromptText(prompt)).toBe(cleaned);
  });

  it('leaves correct text alone, however exotic', () => {
    for (const text of ['crème brûlée', 'Ελληνικά', 'москва', '日本語のテキスト', 'x² + y³ and ½ cup', '©®™']) {
      expect(isBad(text)).toBe(false);
      expect(fixText(text)).toBe(text);
    }
  });
});
