// Defaults and limits that suit a model family, beneath the folder's dreamurl.json and the
// environment (generation-settings.ts settingsForModel: environment > dreamurl.json > family > built-in). SD
// 1.x/2.x keep the built-in ones (512², 50 steps, guidance 7.5). SDXL gets what its pipeline and
// training want: StableDiffusionXLPipeline's __call__ defaults (1024², 50 steps, guidance 5.0), sides
// in multiples of 64 from 512 to 1536 (SDXL was trained on ~1024² buckets such as 1344×768). A
// distilled few-step SDXL (SDXL-Turbo, whose scheduler config spaces timesteps "trailing" so that one
// step starts at t = 999) gets its model card's use: 512², 1 step, guidance 0 (classifier-free
// guidance off), at most 8 steps, sides up to 1024.
//
// Cost limits (max_pixels, max_pixel_steps; docs/gpu-function.md "Sizing the cost limits"): SDXL's own
// size, 1024² — every resolution bucket it was trained on (1344 × 768, 1536 × 640, …) is at most that —
// for 50 steps, its pipeline's default: the work of one default request, which also lets 512² run 200
// steps (max_steps stops it at 150). Why 1024² is safe where SD 1.x stops at 768² on a 24 GB card:
// SDXL's UNet has no attention at its first, full-latent level (down_block_types starts with
// DownBlock2D), so its largest attention at 1024² is over 64² = 4096 tokens — the same as SD 1.x at
// 512²; one such picture fills the built-in CUDA batch budget (4 × 512²) by itself.
// SDXL-Turbo: its 512² (it was distilled at 512²; larger pictures lose detail, the model card says), for
// its 8 steps at most: 512² × 8, a twelfth of the work of one default SDXL request.
import type { ModelFolder } from './model-folder';
import type { ModelProfile } from './model-profile';

export type ModelFamilyName = 'stable-diffusion' | 'stable-diffusion-xl' | 'stable-diffusion-xl-turbo';

/** Of a folder, or of a Hub listing (`npm run deploy --model`): what counts is whether SDXL's parts are there. */
export function modelFamilyOf(folder: {
  readonly sdxl: unknown;
  readonly schedulerConfig: ModelFolder['schedulerConfig'];
}): ModelFamilyName {
  if (folder.sdxl === undefined) return 'stable-diffusion';
  return folder.schedulerConfig.timestep_spacing === 'trailing' ? 'stable-diffusion-xl-turbo' : 'stable-diffusion-xl';
}

const FAMILY_PROFILES: Readonly<Record<ModelFamilyName, ModelProfile>> = Object.freeze({
  'stable-diffusion': {},
  'stable-diffusion-xl': {
    defaults: { width: 1024, height: 1024, steps: 50, guidance: 5 },
    limits: {
      min_side: 512,
      max_side: 1536,
      side_multiple: 64,
      max_pixels: 1024 * 1024,
      max_pixel_steps: 1024 * 1024 * 50,
    },
  },
  'stable-diffusion-xl-turbo': {
    defaults: { width: 512, height: 512, steps: 1, guidance: 0 },
    limits: {
      min_side: 256,
      max_side: 1024,
      side_multiple: 64,
      max_steps: 8,
      max_pixels: 512 * 512,
      max_pixel_steps: 512 * 512 * 8,
    },
  },
});

/** The family's profile with the folder's own (dreamurl.json) on top, field by field. */
export function profileForFamily(family: ModelFamilyName, folderProfile: ModelProfile): ModelProfile {
  const base = FAMILY_PROFILES[family];
  return {
    defaults: { ...base.defaults, ...folderProfile.defaults },
    limits: { ...base.limits, ...folderProfile.limits },
  };
}
