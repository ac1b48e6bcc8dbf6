// The resolved request: the contract's ResolvedGeneration (every input that changes pixels, the model
// profile's defaults filled in; prompts NFC, whitespace collapsed and trimmed) and the profile it is
// for. This is what the content key hashes; the generation without `model` is what the GPU function
// receives.
import type { ResolvedGeneration } from '../../contract';
import type { ModelProfile } from '../config/model-profiles';

export interface ImageRequest extends ResolvedGeneration {
  readonly model: ModelProfile;
}

export type UnseededImageRequest = Omit<ImageRequest, 'seed'>;

/** What the query said about the seed: a number, nothing (derive one), or `random`. */
export type SeedChoice = number | 'derived' | 'random';
