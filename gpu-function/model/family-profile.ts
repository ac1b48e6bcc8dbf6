// Defaults and limits that suit a model family, beneath the folder's dreamurl.json and the
// environment (config.ts settingsForModel: environment > dreamurl.json > family > built-in). SD
// 1.x/2.x keep the built-in ones (512², 50 steps, guidance 7.5). SDXL gets what its pipeline and
// training want: StableDiffusionXLPipeline's __call__ defaults (1024², 50 steps, guidance 5.0), sides
// in multiples of 64 from 512 to 1536 (SDXL was trained on ~1024² buckets such as 1344×768). A
// distilled few-step SDXL (SDXL-Turbo, whose scheduler config spaces timesteps "trailing" so that one
// step starts at t = 999) gets its model card's use: 512², 1 step, guidance 0 (classifier-free
// guidance off), at most 8 steps, sides up to 1024.
import type { ModelFolder } from './model-folder';
import type { ModelProfile } from './model-profile';

export type ModelFamilyName = 'stable-diffusion' | 'stable-diffusion-xl' | 'stable-diffusion-xl-turbo';

export function modelFamilyOf(folder: Pick<ModelFolder, 'sdxl' | 'schedulerConfig'>): ModelFamilyName {
  if (folder.sdxl === undefined) return 'stable-diffusion';
  return folder.schedulerConfig.timestep_spacing === 'trailing' ? 'stable-diffusion-xl-turbo' : 'stable-diffusion-xl';
}

const FAMILY_PROFILES: Readonly<Record<ModelFamilyName, ModelProfile>> = Object.freeze({
  'stable-diffusion': {},
  'stable-diffusion-xl': {
    defaults: { width: 1024, height: 1024, steps: 50, guidance: 5 },
    limits: { min_side: 512, max_side: 1536, side_multiple: 64 },
  },
  'stable-diffusion-xl-turbo': {
    defaults: { width: 512, height: 512, steps: 1, guidance: 0 },
    limits: { min_side: 256, max_side: 1024, side_multiple: 64, max_steps: 8 },
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
