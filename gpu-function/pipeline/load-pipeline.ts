// Opens a model folder's networks on the chosen execution provider and assembles the pipeline.
import type { ModelFolder } from '../model/model-folder';
import { openModelSession, type ExecutionProvider, type ExecutionProviderSetting } from './onnx-runtime';
import { StableDiffusionPipeline } from './stable-diffusion';
import { ClipTokenizer } from './tokenizer/clip-tokenizer';

export interface LoadPipelineOptions {
  readonly provider: ExecutionProviderSetting;
  /** Threads per operator. @default os.availableParallelism() */
  readonly intraOpThreads?: number;
  readonly log: (line: string) => void;
}

export interface LoadedPipeline {
  readonly pipeline: StableDiffusionPipeline;
  readonly tokenizer: ClipTokenizer;
  /** Where the UNet runs (the networks share one provider). */
  readonly provider: ExecutionProvider;
  release(): Promise<void>;
}

export async function loadPipeline(folder: ModelFolder, options: LoadPipelineOptions): Promise<LoadedPipeline> {
  const sessionOptions = {
    provider: options.provider,
    log: options.log,
    ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
  };
  const tokenizer = await ClipTokenizer.fromFolder(folder.tokenizerDir);
  // One after another: opening a graph briefly needs its weights twice over, and SD's UNet is large.
  const textEncoder = await openModelSession(folder.graphs.textEncoder, sessionOptions);
  const unet = await openModelSession(folder.graphs.unet, sessionOptions);
  const vaeDecoder = await openModelSession(folder.graphs.vaeDecoder, sessionOptions);
  const pipeline = new StableDiffusionPipeline({
    tokenizer,
    textEncoder,
    unet,
    vaeDecoder,
    schedulerConfig: folder.schedulerConfig,
    vaeScalingFactor: folder.vaeScalingFactor,
  });
  return {
    pipeline,
    tokenizer,
    provider: unet.provider,
    async release() {
      await Promise.all([textEncoder.release(), unet.release(), vaeDecoder.release()]);
    },
  };
}
