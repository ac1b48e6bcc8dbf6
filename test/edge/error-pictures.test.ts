// Errors inside <img>: who gets a picture (Sec-Fetch-Dest, Accept with q-values, RFC 9110 §12.5.1) and
// what the picture says. The answers themselves (status, headers, size, inert markup) are pinned for
// both runtimes by the contract table (test/contract/contract-cases.ts); Chromium renders one in
// test/browser/long-generations.test.ts.
import { describe, expect, it } from 'vitest';
import { errorPictureSvg, xmlText } from '../../edge/error-picture';
import { parseAccept, qualityOf, wantsPicture } from '../../edge/request/wants-picture';

const headers = (fields: Record<string, string>) => new Headers(fields);

describe('who gets an error as a picture', () => {
  it.each([
    // [Accept, Sec-Fetch-Dest, picture?]
    ['image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', undefined, true],
    ['image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5', undefined, true],
    ['image/*', undefined, true],
    ['IMAGE/SVG+XML', undefined, true],
    ['image/*;q=0.9, application/json;q=0.5', undefined, true],
    ['application/json;q=0.5, image/svg+xml;q=0.501', undefined, true],
    // Ties and API clients: problem+json.
    ['*/*', undefined, false],
    ['image/png, application/problem+json', undefined, false],
    ['application/json, image/*;q=0.9', undefined, false],
    ['image/svg+xml;q=0.5, */*;q=0.5', undefined, false],
    ['image/*, application/*', undefined, false],
    // SVG explicitly refused, or only another image type accepted: not a picture we may send.
    ['image/*, image/svg+xml;q=0', undefined, false],
    ['image/png', undefined, false],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', undefined, false],
    [undefined, undefined, false],
    // Malformed q-values and ranges are skipped, not guessed at.
    ['image/svg+xml;q=2, application/json;q=0.1', undefined, false],
    ['image/svg+xml;q=0.1234', undefined, false],
    ['image, application/json;q=0.1', undefined, false],
    ['*/svg+xml, application/json;q=0.1', undefined, false],
    // Commas and semicolons inside a quoted parameter do not split.
    ['application/json;note="a, image/*";q=0.1, image/svg+xml;q=0.5', undefined, true],
    // The browser's own word wins over Accept.
    ['application/json', 'image', true],
    [undefined, 'IMAGE', true],
    ['image/*', 'document', true],
    [undefined, 'document', false],
  ])('Accept %j, Sec-Fetch-Dest %j → picture: %s', (accept, dest, expected) => {
    const fields: Record<string, string> = {};
    if (accept !== undefined) fields.Accept = accept;
    if (dest !== undefined) fields['Sec-Fetch-Dest'] = dest;
    expect(wantsPicture(headers(fields))).toBe(expected);
  });

  it('takes the quality of the most specific matching range', () => {
    const ranges = parseAccept('*/*;q=0.1, image/*;q=0.2, image/svg+xml;q=0.3, application/json;q=0.4');
    expect(qualityOf('image/svg+xml', ranges)).toBe(0.3);
    expect(qualityOf('image/png', ranges)).toBe(0.2);
    expect(qualityOf('text/plain', ranges)).toBe(0.1);
    expect(qualityOf('application/problem+json', ranges)).toBe(0.1);
    expect(qualityOf('text/plain', parseAccept('image/*'))).toBe(0);
  });

  it('reads a hostile Accept (huge, unbalanced quotes, garbage) without failing', () => {
    const hostile = ['"'.repeat(10_000), 'image/*;q=0.5,'.repeat(2_000), ';;;,,,///', 'image/svg+xml;q="1"'];
    for (const accept of hostile) {
      expect(typeof wantsPicture(headers({ Accept: accept }))).toBe('boolean');
    }
  });
});

describe('the error picture', () => {
  const problem = { type: 'urn:x', title: 'Too many generations', status: 429, detail: 'Wait.' };

  it('is the asked size, with the status and title, the reason and when to retry on their own lines', () => {
    const svg = errorPictureSvg(problem, { width: 512, height: 384 }, 30);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="512" height="384" viewBox="0 0 512 384"/);
    expect([...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1])).toEqual([
      '429 Too many generations',
      'Wait.',
      'Try again in 30 s',
    ]);
    expect(svg).toContain('<title>429 Too many generations. Wait.. Try again in 30 s</title>');
  });

  it('cuts a reason too long for the width to one line with an ellipsis, never inside a character or an entity', () => {
    const detail = `${'<😀&'.repeat(100)}`;
    const svg = errorPictureSvg({ ...problem, detail }, { width: 128, height: 128 });
    const line = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)][1]![1]!;
    expect(line.endsWith('…')).toBe(true);
    expect(line).toMatch(/^(&lt;😀&amp;)+(&lt;|&lt;😀|&lt;😀&amp;)?…$/u);
    expect(svg).not.toContain('<😀');
  });

  it('escapes markup and drops what XML forbids (controls, unpaired surrogates, U+FFFE)', () => {
    expect(xmlText(`<script>alert("x" & 'y')</script>`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;',
    );
    expect(xmlText('a\u0000b\u001Bc\uD800d\uDC00e\uFFFEf')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf');
    expect(xmlText('😀 tab\tnewline\n')).toBe('😀 tab\tnewline\n');
  });
});
