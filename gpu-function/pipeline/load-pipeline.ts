// Opens a model folder's networks on the chosen execution provider and assembles the pipeline. The
// family comes from the export's layout: a folder with text_encoder_2/ whose UNet takes `text_embeds`
// and `time_ids` is SDXL (optimum's export, onnxruntime/sdxl-turbo); one without is SD 1.x/2.x. Both
// run the same denoising loop with their own text conditioning.
import type { ModelFolder } from '../model/model-folder';
import {
  openModelSession,
  type ExecutionProvider,
  type ExecutionProviderSetting,
  type ModelSession,
} from './onnx-runtime';
import { StableDiffusionPipeline } from './stable-diffusion';
import { SdxlTextConditioner } from './sdxl-text-conditioning';
import { ClipTextConditioner, type TextConditioner } from './text-conditioning';
import { ClipTokenizer } from './tokenizer/clip-tokenizer';

export interface LoadPipelineOptions {
  readonly provider: ExecutionProviderSetting;
  /** Threads per operator. @default os.availableParallelism() */
  readonly intraOpThreads?: number;
  readonly log: (line: string) => void;
}

export type ModelFamily = 'stable-diffusion' | 'stable-diffusion-xl';

export interface LoadedPipeline {
  readonly pipeline: StableDiffusionPipeline;
  readonly tokenizer: ClipTokenizer;
  readonly family: ModelFamily;
  /** Where the UNet runs (the networks share one provider). */
  readonly provider: ExecutionProvider;
  release(): Promise<void>;
}

/** UNet inputs only an SDXL UNet (addition_embed_type "text_time") takes. */
const SDXL_UNET_INPUTS = ['text_embeds', 'time_ids'] as const;

export async function loadPipeline(folder: ModelFolder, options: LoadPipelineOptions): Promise<LoadedPipeline> {
  const sessionOptions = {
    provider: options.provider,
    log: options.log,
    ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
  };
  const tokenizer = await ClipTokenizer.fromFolder(folder.tokenizerDir);
  const sessions: ModelSession[] = [];
  const open = async (path: string) => {
    const session = await openModelSession(path, sessionOptions);
    sessions.push(session);
    return session;
  };
  const release = () => Promise.all(sessions.map((session) => session.release())).then(() => undefined);
  try {
    // One after another: opening a graph briefly needs its weights twice over, and SD's UNet is large.
    const textEncoder = await open(folder.graphs.textEncoder);
    const unet = await open(folder.graphs.unet);
    const family = familyOf(folder, unet);
    let conditioner: TextConditioner = new ClipTextConditioner(tokenizer, textEncoder);
    if (family === 'stable-diffusion-xl') {
      const sdxl = folder.sdxl!;
      conditioner = new SdxlTextConditioner({
        tokenizer,
        textEncoder,
        tokenizer2: await ClipTokenizer.fromFolder(sdxl.tokenizer2Dir),
        textEncoder2: await open(sdxl.textEncoder2),
        forceZerosForEmptyPrompt: sdxl.forceZerosForEmptyPrompt,
      });
    }
    const vaeDecoder = await open(folder.graphs.vaeDecoder);
    if (folder.vaeForceUpcast && vaeDecoder.inputs[vaeDecoder.inputNames[0]!]?.type === 'float16') {
      // diffusers upcasts such a VAE to float32 (needs_upcasting); an ONNX graph cannot be retyped here.
      options.log(
        `${vaeDecoder.path} is float16 but its config asks for float32 (force_upcast); if pictures fail with NaN, ` +
          'use an fp32 vae_decoder or one converted from sdxl-vae-fp16-fix',
      );
    }
    const pipeline = new StableDiffusionPipeline({
      conditioner,
      unet,
      vaeDecoder,
      schedulerConfig: folder.schedulerConfig,
      vaeScalingFactor: folder.vaeScalingFactor,
      ...(family === 'stable-diffusion-xl' ? { schedulerRules: 'stable-diffusion-xl', latentUnscaling: 'divide' } : {}),
    });
    return { pipeline, tokenizer, family, provider: unet.provider, release };
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
}

/** SDXL needs both halves: the second text encoder and a UNet that takes its conditioning. */
function familyOf(folder: ModelFolder, unet: ModelSession): ModelFamily {
  const sdxlInputs = SDXL_UNET_INPUTS.filter((name) => unet.inputs[name] !== undefined);
  if (folder.sdxl === undefined && sdxlInputs.length > 0) {
    throw new Error(
      `${unet.path} takes ${sdxlInputs.join(' and ')} (an SDXL UNet), ` +
        `but ${folder.dir} has no text_encoder_2/model.onnx`,
    );
  }
  if (folder.sdxl !== undefined && sdxlInputs.length < SDXL_UNET_INPUTS.length) {
    throw new Error(
      `${folder.dir} has text_encoder_2/ (SDXL), but ${unet.path} does not take ${SDXL_UNET_INPUTS.join(' and ')} ` +
        `(it takes ${unet.inputNames.join(', ')})`,
    );
  }
  return folder.sdxl === undefined ? 'stable-diffusion' : 'stable-diffusion-xl';
}
