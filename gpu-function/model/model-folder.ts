// Reads a model folder in the layout diffusers' ONNX export writes (OnnxStableDiffusionPipeline's
// `save_pretrained`): model_index.json, scheduler/scheduler_config.json, tokenizer/, and one
// `model.onnx` per network in text_encoder/, unet/ and vae_decoder/ — and for SDXL (optimum's export,
// what ORTStableDiffusionXLPipeline loads) also text_encoder_2/ and tokenizer_2/. Returns where everything is plus the
// parsed configs; the graphs themselves are opened later by the onnxruntime boundary. Every missing file
// is named in one error, so a half-copied folder is fixed in one go.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { REQUIRED_FILES, SDXL_FILES } from './pipeline-files';

/** diffusers' SD 1.x/2.x VAE scaling factor, used when vae_decoder/config.json does not give one. */
export const DEFAULT_VAE_SCALING_FACTOR = 0.18215;

export type JsonObject = Readonly<Record<string, unknown>>;

export interface ModelFolder {
  /** Absolute path of the folder. */
  readonly dir: string;
  readonly modelIndex: JsonObject;
  /** scheduler/scheduler_config.json as parsed JSON (diffusers' keys, e.g. `beta_schedule`, `steps_offset`). */
  readonly schedulerConfig: JsonObject;
  /** Folder with tokenizer.json, or vocab.json + merges.txt, plus special_tokens_map.json etc. */
  readonly tokenizerDir: string;
  /** Absolute paths of the ONNX graphs; external data (weights.pb, model.onnx_data) sits beside them. */
  readonly graphs: { readonly textEncoder: string; readonly unet: string; readonly vaeDecoder: string };
  /** Latents are divided by this before the VAE decoder (vae_decoder/config.json `scaling_factor`). */
  readonly vaeScalingFactor: number;
  /** vae_decoder/config.json `force_upcast`: the VAE overflows in float16 and wants float32 (SDXL's). */
  readonly vaeForceUpcast: boolean;
  /** SDXL's second text encoder and tokenizer, when the folder has text_encoder_2/model.onnx. */
  readonly sdxl: SdxlParts | undefined;
}

export interface SdxlParts {
  readonly textEncoder2: string;
  readonly tokenizer2Dir: string;
  /** model_index.json's `force_zeros_for_empty_prompt` (StableDiffusionXLPipeline's default: true). */
  readonly forceZerosForEmptyPrompt: boolean;
}

export async function readModelFolder(folder: string): Promise<ModelFolder> {
  const dir = resolve(folder);
  if (!(await isDirectory(dir))) throw new Error(`model folder ${dir} does not exist or is not a folder`);

  const missing: string[] = [];
  for (const file of Object.values(REQUIRED_FILES)) {
    if (!(await isFile(join(dir, file)))) missing.push(file);
  }
  const tokenizerDir = join(dir, 'tokenizer');
  missing.push(...(await missingTokenizer(dir, 'tokenizer')));
  const isSdxl = await isFile(join(dir, SDXL_FILES.textEncoder2));
  if (isSdxl) missing.push(...(await missingTokenizer(dir, 'tokenizer_2')));
  if (missing.length > 0) {
    throw new Error(`${dir} is not a diffusers ONNX model folder: missing ${missing.join(', ')}${await layoutHint(dir)}`);
  }

  const modelIndex = await readJsonObject(dir, REQUIRED_FILES.modelIndex);
  const schedulerConfig = await readJsonObject(dir, REQUIRED_FILES.schedulerConfig);
  return Object.freeze({
    dir,
    modelIndex,
    schedulerConfig,
    tokenizerDir,
    graphs: Object.freeze({
      textEncoder: join(dir, REQUIRED_FILES.textEncoder),
      unet: join(dir, REQUIRED_FILES.unet),
      vaeDecoder: join(dir, REQUIRED_FILES.vaeDecoder),
    }),
    ...(await readVaeConfig(dir)),
    sdxl: isSdxl
      ? Object.freeze({
          textEncoder2: join(dir, SDXL_FILES.textEncoder2),
          tokenizer2Dir: join(dir, 'tokenizer_2'),
          forceZerosForEmptyPrompt: modelIndex.force_zeros_for_empty_prompt !== false,
        })
      : undefined,
  });
}

/** tokenizer.json, or vocab.json + merges.txt, in `folder`; what is missing, in words. */
async function missingTokenizer(dir: string, folder: string): Promise<string[]> {
  const hasTokenizerJson = await isFile(join(dir, folder, 'tokenizer.json'));
  const hasVocabAndMerges =
    (await isFile(join(dir, folder, 'vocab.json'))) && (await isFile(join(dir, folder, 'merges.txt')));
  if (hasTokenizerJson || hasVocabAndMerges) return [];
  return [`${folder}/tokenizer.json (or ${folder}/vocab.json + ${folder}/merges.txt)`];
}

async function readVaeConfig(dir: string): Promise<{ vaeScalingFactor: number; vaeForceUpcast: boolean }> {
  const path = 'vae_decoder/config.json';
  if (!(await isFile(join(dir, path)))) return { vaeScalingFactor: DEFAULT_VAE_SCALING_FACTOR, vaeForceUpcast: false };
  const config = await readJsonObject(dir, path);
  const value = config.scaling_factor ?? DEFAULT_VAE_SCALING_FACTOR;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${join(dir, path)}: scaling_factor must be a positive number, got ${JSON.stringify(value)}`);
  }
  return { vaeScalingFactor: value, vaeForceUpcast: config.force_upcast === true };
}

async function readJsonObject(dir: string, relativePath: string): Promise<JsonObject> {
  const path = join(dir, relativePath);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${path} must hold a JSON object`);
  }
  return Object.freeze(value as Record<string, unknown>);
}

/** A PyTorch diffusers folder has the same model_index.json but no .onnx graphs: say so. */
async function layoutHint(dir: string): Promise<string> {
  try {
    const index: unknown = JSON.parse(await readFile(join(dir, REQUIRED_FILES.modelIndex), 'utf8'));
    const className = (index as { _class_name?: unknown })._class_name;
    if (typeof className === 'string' && !className.includes('Onnx') && !className.startsWith('ORT')) {
      return ` (model_index.json says ${className}: this is a PyTorch layout; use an ONNX export, e.g. a repo's "onnx" revision)`;
    }
  } catch {
    // No readable model_index.json: the missing-file list already says what is wrong.
  }
  return '';
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}
