// `POST /v1/tokenize`: the ids the text encoder would see for a prompt (77, padded and truncated as
// diffusers does), how many tokens the prompt has, and whether any were cut — so a client can warn
// before generating that the end of a long prompt will be ignored.
import type { Handler } from 'hono';
import { problemErrorsFrom, tokenizeRequestSchema, type TokenizeResponse } from '../../contract';
import type { AppEnv } from '../app-env';
import { invalidBody } from '../problems';
import { readJsonBody } from '../read-json-body';
import type { ServiceState } from '../service-state';
import { requireModel } from './require-model';

export function tokenizeHandler(state: ServiceState): Handler<AppEnv> {
  return async function tokenize(c) {
    const model = requireModel(state);
    const parsed = tokenizeRequestSchema.safeParse(await readJsonBody(c.req.raw));
    if (!parsed.success) throw invalidBody(problemErrorsFrom(parsed.error));
    const encoded = model.tokenizer.encode(parsed.data.prompt);
    const body: TokenizeResponse = {
      input_ids: Array.from(encoded.inputIds),
      token_count: encoded.tokenCount,
      truncated: encoded.truncated,
    };
    return c.json(body, 200, { 'Cache-Control': 'no-store' });
  };
}
