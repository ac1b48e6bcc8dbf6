// Which files of a diffusers ONNX layout the text-to-image pipeline reads. One rule for both the Hub
// download (fetch only these) and the local fingerprint (hash only these), so both agree on what the
// model is. OnnxStableDiffusionPipeline's model_index.json also lists safety_checker, feature_extractor
// and vae_encoder: the service does not run them, and the safety checker alone is ~1.2 GB.

/** The folders the pipeline loads, as diffusers names them in model_index.json (the last two: SDXL's). */
export const PIPELINE_FOLDERS = [
  'scheduler',
  'tokenizer',
  'text_encoder',
  'unet',
  'vae_decoder',
  'tokenizer_2',
  'text_encoder_2',
] as const;

/** Files every layout must have (paths relative to the model folder, `/`-separated). */
export const REQUIRED_FILES = Object.freeze({
  modelIndex: 'model_index.json',
  schedulerConfig: 'scheduler/scheduler_config.json',
  textEncoder: 'text_encoder/model.onnx',
  unet: 'unet/model.onnx',
  vaeDecoder: 'vae_decoder/model.onnx',
});

/** SDXL's second text encoder: its presence makes a folder an SDXL pipeline (with tokenizer_2/). */
export const SDXL_FILES = Object.freeze({
  textEncoder2: 'text_encoder_2/model.onnx',
});

/** Weights of other frameworks that share the folders with the ONNX graphs in some repos. */
const OTHER_FRAMEWORK_WEIGHTS = /\.(bin|safetensors|ckpt|pt|pth|msgpack|h5)$/i;

/**
 * True for a file the pipeline needs: model_index.json, and everything in the pipeline's folders
 * (graphs, their external data whatever it is called, configs, tokenizer files) except other
 * frameworks' weights and hidden files.
 */
export function isPipelineFile(relativePath: string): boolean {
  if (relativePath === REQUIRED_FILES.modelIndex) return true;
  const parts = relativePath.split('/');
  const folder = parts[0] ?? '';
  const name = parts[parts.length - 1] ?? '';
  return (
    parts.length >= 2 &&
    (PIPELINE_FOLDERS as readonly string[]).includes(folder) &&
    !name.startsWith('.') &&
    !OTHER_FRAMEWORK_WEIGHTS.test(name)
  );
}
