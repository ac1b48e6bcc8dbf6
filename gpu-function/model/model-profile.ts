// A model folder may carry `dreamurl.json`: the defaults and limits that suit that model, in the
// shape `GET /v1/model` reports them (snake_case, any subset). It is how a small or unusual model —
// the test fixture, a 768-pixel SD 2.x export — says "64×64 and 20 steps" or "multiples of 16"
// without every operator repeating it in environment variables (which still win, see config.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { issueLines, modelDefaultsSchema, modelLimitsSchema } from '../../contract';

export const MODEL_PROFILE_FILE = 'dreamurl.json';

const modelProfileSchema = z.strictObject({
  defaults: modelDefaultsSchema.partial().optional(),
  limits: modelLimitsSchema.partial().optional(),
});
export type ModelProfile = z.infer<typeof modelProfileSchema>;

/** The folder's profile, or an empty one when it has none; a malformed file is an error naming it. */
export async function readModelProfile(dir: string): Promise<ModelProfile> {
  const path = join(dir, MODEL_PROFILE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  return parseModelProfile(text, path);
}

/** A dreamurl.json's text (read from a folder, or from the Hub by `npm run deploy`); `path` names it in errors. */
export function parseModelProfile(text: string, path: string): ModelProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = modelProfileSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${path} is not a valid model profile: ${issueLines(parsed.error, '(file)').join('; ')}`);
  }
  return parsed.data;
}
