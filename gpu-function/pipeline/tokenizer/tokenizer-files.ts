// Reads a CLIP tokenizer folder in Hugging Face's layout (the `tokenizer/` folder of a diffusers
// pipeline): either `tokenizer.json`, or the older `vocab.json` + `merges.txt`, plus
// `special_tokens_map.json` / `tokenizer_config.json` for the start, end and pad tokens.
// SD 1.x pads with `<|endoftext|>`, SD 2.x with `!` (stabilityai/stable-diffusion-2*/tokenizer).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { END_OF_TEXT, START_OF_TEXT } from './clip-pre-tokenizer';

export interface ClipTokenizerFiles {
  /** Token string → id. */
  readonly vocab: ReadonlyMap<string, number>;
  /** BPE merges in rank order, each a pair of symbols. */
  readonly merges: readonly (readonly [string, string])[];
  readonly bosToken: string;
  readonly eosToken: string;
  readonly padToken: string;
  /** Sequence length the text encoder takes (tokenizer_config.json's model_max_length; 77 for SD). */
  readonly maxLength: number;
}

/** A token in the configs is either a string or an AddedToken object `{content, ...}`. */
const tokenSpec = z.union([z.string(), z.object({ content: z.string() }).transform((t) => t.content)]);
const specialTokens = z
  .object({
    bos_token: tokenSpec.nullish(),
    eos_token: tokenSpec.nullish(),
    pad_token: tokenSpec.nullish(),
    model_max_length: z.number().nullish(),
  })
  .loose();
const mergeEntry = z.union([
  z.string().transform((line, ctx) => {
    const pair = splitMerge(line);
    if (pair === null) ctx.addIssue({ code: 'custom', message: `bad merge "${line}"` });
    return pair ?? (['', ''] as const);
  }),
  z.tuple([z.string(), z.string()]),
]);
// The vocabulary (49,408 entries) is checked by hand after parsing: a zod record costs more time
// than reading the file.
const vocabRecord = z.custom<Record<string, number>>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value as Record<string, unknown>).every((id) => Number.isInteger(id)),
  'expected an object of token → integer id',
);
const tokenizerJson = z
  .object({
    model: z
      .object({
        type: z.literal('BPE'),
        vocab: vocabRecord,
        merges: z.array(mergeEntry),
        end_of_word_suffix: z.string().nullish(),
      })
      .loose(),
    added_tokens: z.array(z.object({ id: z.number().int(), content: z.string() }).loose()).nullish(),
  })
  .loose();
const vocabJson = vocabRecord;

/** CLIP's defaults (transformers' CLIPTokenizer): pad with the end token. */
const DEFAULT_MAX_LENGTH = 77;

export async function readTokenizerFolder(dir: string): Promise<ClipTokenizerFiles> {
  const [tokenizerJsonText, specialMapText, configText] = await Promise.all([
    readOptional(join(dir, 'tokenizer.json')),
    readOptional(join(dir, 'special_tokens_map.json')),
    readOptional(join(dir, 'tokenizer_config.json')),
  ]);

  let vocab: Map<string, number>;
  let merges: (readonly [string, string])[];
  if (tokenizerJsonText !== undefined) {
    const parsed = parseJson(tokenizerJson, tokenizerJsonText, join(dir, 'tokenizer.json'));
    if ((parsed.model.end_of_word_suffix ?? '') !== '</w>') {
      throw new Error(`${join(dir, 'tokenizer.json')} is not a CLIP BPE tokenizer (end_of_word_suffix is not "</w>")`);
    }
    vocab = new Map(Object.entries(parsed.model.vocab));
    for (const added of parsed.added_tokens ?? []) vocab.set(added.content, added.id);
    merges = parsed.model.merges;
  } else {
    // Read both, then name the first missing one in this order: Promise.all would report whichever
    // read failed first in time, so the same folder could be explained two ways.
    const why = 'a CLIP tokenizer needs tokenizer.json, or vocab.json and merges.txt';
    const [vocabRead, mergesRead] = await Promise.allSettled([
      readRequired(join(dir, 'vocab.json'), why),
      readRequired(join(dir, 'merges.txt'), why),
    ]);
    if (vocabRead.status === 'rejected') throw vocabRead.reason;
    if (mergesRead.status === 'rejected') throw mergesRead.reason;
    const vocabText = vocabRead.value;
    const mergesText = mergesRead.value;
    vocab = new Map(Object.entries(parseJson(vocabJson, vocabText, join(dir, 'vocab.json'))));
    merges = parseMergesTxt(mergesText, join(dir, 'merges.txt'));
  }

  // transformers reads tokenizer_config.json first and lets special_tokens_map.json override it.
  const config = configText === undefined ? {} : parseJson(specialTokens, configText, join(dir, 'tokenizer_config.json'));
  const map = specialMapText === undefined ? {} : parseJson(specialTokens, specialMapText, join(dir, 'special_tokens_map.json'));
  const bosToken = map.bos_token ?? config.bos_token ?? START_OF_TEXT;
  const eosToken = map.eos_token ?? config.eos_token ?? END_OF_TEXT;
  const padToken = map.pad_token ?? config.pad_token ?? eosToken;
  for (const [role, token] of [['start', bosToken], ['end', eosToken], ['pad', padToken]] as const) {
    if (!vocab.has(token)) throw new Error(`the ${role} token "${token}" of ${dir} is not in its vocabulary`);
  }
  const configured = config.model_max_length;
  // Unset lengths are saved as a huge number (transformers' VERY_LARGE_INTEGER); SD's is 77.
  const maxLength = configured != null && Number.isInteger(configured) && configured >= 2 && configured <= 4096 ? configured : DEFAULT_MAX_LENGTH;
  return { vocab, merges, bosToken, eosToken, padToken, maxLength };
}

/** merges.txt: an optional `#version` header, then one "left right" pair per line. */
export function parseMergesTxt(text: string, source: string): (readonly [string, string])[] {
  const merges: (readonly [string, string])[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
    const pair = splitMerge(line);
    if (pair === null) throw new Error(`${source}:${i + 1}: expected "left right", got "${line}"`);
    merges.push(pair);
  }
  return merges;
}

function splitMerge(line: string): readonly [string, string] | null {
  const parts = line.split(' ');
  return parts.length === 2 && parts[0] !== '' && parts[1] !== '' ? [parts[0]!, parts[1]!] : null;
}

function parseJson<T>(schema: z.ZodType<T>, text: string, source: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${source} is not a CLIP tokenizer file: ${z.prettifyError(result.error)}`);
  return result.data;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readRequired(path: string, why: string): Promise<string> {
  const text = await readOptional(path);
  if (text === undefined) throw new Error(`${path} is missing: ${why}`);
  return text;
}
