// The strict query-string reader: what URLSearchParams would silently guess is an error here.
import { describe, expect, it } from 'vitest';
import { parseQueryString } from '../../../edge/request/query-string';

describe('parseQueryString', () => {
  it('decodes form encoding: + and %20 are spaces, UTF-8 escapes are characters', () => {
    const result = parseQueryString('?prompt=a+b%20c%C3%A9&seed=1');
    expect(result).toEqual({ ok: true, query: new Map([['prompt', 'a b cé'], ['seed', '1']]) });
  });

  it('skips empty segments and reads a bare name as an empty value', () => {
    expect(parseQueryString('a=1&&b&')).toEqual({ ok: true, query: new Map([['a', '1'], ['b', '']]) });
  });

  it('keeps "=" inside values', () => {
    expect(parseQueryString('sig=ab==')).toEqual({ ok: true, query: new Map([['sig', 'ab==']]) });
  });

  it('reports duplicates and bad escapes, each once', () => {
    expect(parseQueryString('a=1&a=2&a=3&b=%zz')).toEqual({
      ok: false,
      errors: [
        { param: 'a', message: 'is given more than once' },
        { param: 'b', message: 'is not valid percent-encoded UTF-8' },
      ],
    });
  });
});
