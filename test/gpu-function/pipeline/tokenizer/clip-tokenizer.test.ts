// The CLIP tokenizer against reference ids. cases.json: the project's 40 public cases (openai/CLIP
// ids). extra-cases.json: 187 more made by test/fixtures/clip-tokenizer/make-extra-cases.py from
// openai/CLIP's tokenizer with ftfy (mojibake, ligatures, full-width, nested entities, special
// tokens, long prompts), each with SD 1.x and SD 2.x padding. One generic test per table, run
// over every way a tokenizer folder can be laid out.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../../../gpu-function/pipeline/tokenizer/clip-tokenizer';

interface Case {
  prompt: string;
  ids: number[];
  input_ids: number[];
  input_ids_pad_bang?: number[];
}

const fixture = fileURLToPath(new URL('../../../fixtures/clip-tokenizer/', import.meta.url));
const cases = JSON.parse(await readFile(join(fixture, 'cases.json'), 'utf8')) as Case[];
const extra = (JSON.parse(await readFile(join(fixture, 'extra-cases.json'), 'utf8')) as { cases: Case[] }).cases;

let scratch: string;
const folders: Record<'sd1' | 'sd1TinySd' | 'sd2' | 'tokenizerJsonPairs' | 'tokenizerJsonStrings', string> = {
  sd1: fixture,
  sd1TinySd: fileURLToPath(new URL('../../../fixtures/tiny-sd/tokenizer/', import.meta.url)),
  sd2: '',
  tokenizerJsonPairs: '',
  tokenizerJsonStrings: '',
};
const tokenizers = new Map<string, ClipTokenizer>();

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'clip-tokenizer-'));
  // SD 2.x: the same vocab.json and merges.txt, special-token files that pad with "!".
  folders.sd2 = join(scratch, 'sd2');
  await mkdirCopy(folders.sd2, [
    [join(fixture, 'vocab.json'), 'vocab.json'],
    [join(fixture, 'merges.txt'), 'merges.txt'],
    [join(fixture, 'sd2-style', 'special_tokens_map.json'), 'special_tokens_map.json'],
    [join(fixture, 'sd2-style', 'tokenizer_config.json'), 'tokenizer_config.json'],
  ]);
  // tokenizer.json as transformers 5 saves it (pad "!" in tokenizer_config.json, no
  // special_tokens_map.json), with vocab and merges filled back in from the fixture files.
  const skeleton = JSON.parse(await readFile(join(fixture, 'tokenizer-json', 'tokenizer-skeleton.json'), 'utf8')) as {
    model: { vocab: Record<string, number>; merges: unknown[] };
  };
  skeleton.model.vocab = JSON.parse(await readFile(join(fixture, 'vocab.json'), 'utf8')) as Record<string, number>;
  const mergeLines = (await readFile(join(fixture, 'merges.txt'), 'utf8')).split('\n').slice(1).filter((l) => l !== '');
  for (const [name, merges] of [
    ['tokenizerJsonPairs', mergeLines.map((line) => line.split(' '))],
    ['tokenizerJsonStrings', mergeLines],
  ] as const) {
    const dir = join(scratch, name);
    await mkdirCopy(dir, [[join(fixture, 'tokenizer-json', 'tokenizer_config.json'), 'tokenizer_config.json']]);
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ ...skeleton, model: { ...skeleton.model, merges } }));
    folders[name] = dir;
  }
  for (const [name, dir] of Object.entries(folders)) tokenizers.set(name, await ClipTokenizer.fromFolder(dir));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function mkdirCopy(dir: string, files: [string, string][]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [from, to] of files) await copyFile(from, join(dir, to));
}

function tokenizer(name: keyof typeof folders): ClipTokenizer {
  const t = tokenizers.get(name);
  if (t === undefined) throw new Error(`tokenizer ${name} was not loaded`);
  return t;
}

/** The SD 2.x row of a case: its SD 1.x row with every position after the end token padded with 0 ("!"). */
function padBang(c: Case): number[] {
  const end = Math.min(c.ids.length, 75) + 1;
  return c.input_ids_pad_bang ?? c.input_ids.map((id, i) => (i > end ? 0 : id));
}

function expectCase(t: ClipTokenizer, c: Case, expectedInputIds: number[]): void {
  expect(t.tokenize(c.prompt)).toEqual(c.ids);
  const encoded = t.encode(c.prompt);
  expect(Array.from(encoded.inputIds)).toEqual(expectedInputIds);
  expect(encoded.tokenCount).toBe(c.ids.length);
  expect(encoded.truncated).toBe(c.ids.length > 75);
}

describe('ClipTokenizer on the public cases (cases.json)', () => {
  it('has all 40 cases', () => expect(cases).toHaveLength(40));
  it.each(cases)('$prompt', (c) => expectCase(tokenizer('sd1'), c, c.input_ids));
});

describe('ClipTokenizer on the extra reference cases (extra-cases.json)', () => {
  it.each(extra)('SD 1.x padding: $prompt', (c) => expectCase(tokenizer('sd1'), c, c.input_ids));
  it.each(extra)('SD 2.x padding with "!": $prompt', (c) => expectCase(tokenizer('sd2'), c, padBang(c)));
});

describe('tokenizer folder layouts', () => {
  const all = [...cases, ...extra];

  it('reads the special tokens: start 49406, end 49407, pad 49407 (SD 1.x) or 0 = "!" (SD 2.x)', () => {
    expect([tokenizer('sd1').bosId, tokenizer('sd1').eosId, tokenizer('sd1').padId]).toEqual([49406, 49407, 49407]);
    expect([tokenizer('sd2').bosId, tokenizer('sd2').eosId, tokenizer('sd2').padId]).toEqual([49406, 49407, 0]);
    expect(tokenizer('tokenizerJsonPairs').padId).toBe(0);
    expect(tokenizer('sd1').maxLength).toBe(77);
  });

  it.each(['tokenizerJsonPairs', 'tokenizerJsonStrings'] as const)('loads tokenizer.json (%s merges) with the same ids', (name) => {
    for (const c of all) expectCase(tokenizer(name), c, padBang(c));
  });

  it("loads the tiny-sd model's tokenizer folder", () => {
    for (const c of cases) expectCase(tokenizer('sd1TinySd'), c, c.input_ids);
  });

  it('explains a folder without tokenizer files', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'clip-tokenizer-empty-'));
    try {
      await expect(ClipTokenizer.fromFolder(empty)).rejects.toThrow(/vocab\.json is missing: a CLIP tokenizer needs tokenizer\.json, or vocab\.json and merges\.txt/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('rejects a pad token missing from the vocabulary and a non-CLIP tokenizer.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clip-tokenizer-bad-'));
    try {
      await mkdirCopy(dir, [[join(fixture, 'vocab.json'), 'vocab.json'], [join(fixture, 'merges.txt'), 'merges.txt']]);
      await writeFile(join(dir, 'special_tokens_map.json'), JSON.stringify({ pad_token: '<pad>' }));
      await expect(ClipTokenizer.fromFolder(dir)).rejects.toThrow(/the pad token "<pad>" .* is not in its vocabulary/);
      await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] } }));
      await expect(ClipTokenizer.fromFolder(dir)).rejects.toThrow(/not a CLIP BPE tokenizer/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('truncation to 77 positions', () => {
  it('keeps exactly 75 prompt tokens and the end token', () => {
    const t = tokenizer('sd1');
    const exactly = t.encode(Array(75).fill('cat').join(' '));
    expect([exactly.tokenCount, exactly.truncated, exactly.inputIds[75], exactly.inputIds[76]]).toEqual([75, false, 2368, 49407]);
    const over = t.encode(Array(76).fill('cat').join(' '));
    expect([over.tokenCount, over.truncated, over.inputIds[75], over.inputIds[76]]).toEqual([76, true, 2368, 49407]);
    const empty = t.encode('');
    expect([empty.tokenCount, empty.truncated, empty.inputIds[0], empty.inputIds[1], empty.inputIds[2]]).toEqual([0, false, 49406, 49407, 49407]);
  });
});
