// A strict reader of application/x-www-form-urlencoded query strings (WHATWG URL §5.1), because the
// lenient ones guess: URLSearchParams keeps the last of duplicated names and turns bad
// percent-encoding into U+FFFD, so two different URLs would silently mean one picture. Here both
// are errors the client sees.
import type { ParamError } from '../../contract';

export type RawQuery = ReadonlyMap<string, string>;

export type QueryParseResult =
  | { readonly ok: true; readonly query: RawQuery }
  | { readonly ok: false; readonly errors: readonly ParamError[] };

/** Parses the part of a URL after `?` (with or without the `?`). Empty segments (`a=1&&b=2`) are skipped. */
export function parseQueryString(search: string): QueryParseResult {
  const text = search.startsWith('?') ? search.slice(1) : search;
  const query = new Map<string, string>();
  const errors: ParamError[] = [];
  for (const segment of text.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    const rawName = eq === -1 ? segment : segment.slice(0, eq);
    const rawValue = eq === -1 ? '' : segment.slice(eq + 1);
    const name = decodeComponent(rawName);
    if (name === undefined) {
      errors.push({ param: 'query', message: 'a parameter name is not valid percent-encoded UTF-8' });
      continue;
    }
    const value = decodeComponent(rawValue);
    if (value === undefined) {
      errors.push({ param: name, message: 'is not valid percent-encoded UTF-8' });
    } else if (query.has(name)) {
      errors.push({ param: name, message: 'is given more than once' });
    } else {
      query.set(name, value);
    }
  }
  return errors.length > 0 ? { ok: false, errors: dedupe(errors) } : { ok: true, query };
}

/** `+` means space in form encoding; decodeURIComponent rejects malformed escapes and invalid UTF-8. */
function decodeComponent(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

function dedupe(errors: ParamError[]): ParamError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const id = `${e.param}\u0000${e.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
