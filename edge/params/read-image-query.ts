// Reads `GET /v1/images?…` into a resolved request: strict query-string parsing, then the zod schema.
// Every problem with the query becomes one 400 problem listing each bad parameter.
import { paramErrorsFrom } from '../../contract';
import type { ModelProfile } from '../config/model-profiles';
import { invalidParameters } from '../errors/problems';
import { createImageQuerySchema, type ResolvedQuery } from './image-query-schema';
import { parseQueryString } from './query-string';

export interface ImageQuery extends ResolvedQuery {
  /** The decoded parameters as given, `sig` left out: what a URL signature covers. */
  readonly signed: ReadonlyMap<string, string>;
}

/** How the schema's issues name parameters: an unknown one is refused, never ignored. */
const QUERY_PARAM_NAMES = { unknown: 'is not a parameter of this API', whole: 'query' };

export type ImageQueryReader = (search: string) => ImageQuery;

export function createImageQueryReader(models: readonly ModelProfile[], fallback: ModelProfile): ImageQueryReader {
  const schema = createImageQuerySchema(models, fallback);
  return function readImageQuery(search) {
    const raw = parseQueryString(search);
    if (!raw.ok) throw invalidParameters(raw.errors);
    const parsed = schema.safeParse(Object.fromEntries(raw.query));
    if (!parsed.success) throw invalidParameters(paramErrorsFrom(parsed.error, QUERY_PARAM_NAMES));
    const signed = new Map([...raw.query].filter(([name]) => name !== 'sig'));
    return { ...parsed.data, signed };
  };
}
