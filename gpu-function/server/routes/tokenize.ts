// `POST /v1/tokenize`: the ids the text encoder would see for a prompt (77, padded and truncated as
// diffusers does), how many tokens the prompt has, and whether any were cut — so a client can warn
// before generating that the end of a long prompt will be ignored.
import type { Handler } from 'hono';
import { tokenizeRequestSchema, type TokenizeResponse } from '../../../contract';
import type { AppEnv } from '../app-env';
import { readJsonBody } from '../read-json-body';
import type { ServiceState } from '../service-state';
import { requireModel } from './require-model';

export function tokenizeHandler(state: ServiceState): Handler<AppEnv> {
  return async function tokenize(c) {
    const model = requireModel(state);
    const { prompt } = await readJsonBody(c.req.raw, tokenizeRequestSchema);
    const encoded = model.tokenizer.encode(prompt);
    const body: TokenizeResponse = {
      input_ids: Array.from(encoded.inputIds),
      token_count: encoded.tokenCount,
      truncated: encoded.truncated,
    };
    return c.json(body, 200, { 'Cache-Control': 'no-store' });
  };
}
