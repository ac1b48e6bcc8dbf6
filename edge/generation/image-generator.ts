// Turns a miss into a stored picture. Implementations must (1) make at most one GPU call per key at
// a time, however many requests wait for it, (2) store the PNG in the image store before answering,
// so a later request never regenerates (when the store refuses the write, answer with the picture
// anyway and say `stored: false`), and (3) store nothing when the GPU answer is refused.
// Workers: a Durable Object per content key (durable-image-generator.ts). Node: CoalescingGenerator.
import type { ResolvedGeneration } from '../../contract';
import type { GpuTarget } from '../gpu/gpu-target';
import type { ImageMetadata } from '../storage/image-store';

/** Everything needed to make and store one picture; plain data (it crosses Durable Object RPC). */
export interface GenerationJob {
  readonly key: string;
  /** The body of `POST /v1/generate`, every field resolved. */
  readonly request: ResolvedGeneration;
  readonly gpu: GpuTarget;
  readonly metadata: ImageMetadata;
}

export interface GeneratedImage {
  readonly png: Uint8Array;
  /** True when this call found the picture already stored (another request made it). */
  readonly alreadyStored: boolean;
  /** False only when the store refused the write: the picture is served anyway, but not kept. */
  readonly stored: boolean;
}

export interface ImageGenerator {
  /** Resolves with the stored picture, or rejects with a ProblemError (nothing stored then). */
  generate(job: GenerationJob): Promise<GeneratedImage>;
}
