// The resolved request: every input that changes pixels, with the model profile's defaults filled in.
// This is what the content key hashes and what the GPU function receives.
import type { SchedulerName } from '../../gpu-function/contract';
import type { ModelProfile } from '../config/model-profiles';

export interface ImageRequest {
  readonly model: ModelProfile;
  /** NFC, whitespace collapsed and trimmed; 1–1000 characters. */
  readonly prompt: string;
  /** Same normalisation; "" when none was given. */
  readonly negative_prompt: string;
  readonly seed: number;
  readonly steps: number;
  readonly guidance: number;
  readonly width: number;
  readonly height: number;
  readonly scheduler: SchedulerName;
}

export type UnseededImageRequest = Omit<ImageRequest, 'seed'>;

/** What the query said about the seed: a number, nothing (derive one), or `random`. */
export type SeedChoice = number | 'derived' | 'random';
