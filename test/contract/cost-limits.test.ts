// The cost limits of a model profile (contract/model-profile.ts), which the edge and the GPU function
// both apply through the same two checks: max_pixels (width × height) and max_pixel_steps
// (width × height × steps) against a request with its defaults filled in, and a profile's own consistency.
// Without them max_side alone let 1024 × 1024 × 150 steps through.
import { describe, expect, it } from 'vitest';
import { costLimits, limitProblems, type ModelLimits, modelLimitsSchema, profileProblems } from '../../contract';

const limits: ModelLimits = {
  min_side: 64,
  max_side: 1024,
  side_multiple: 64,
  max_steps: 150,
  max_pixels: 768 * 768,
  max_pixel_steps: 768 * 768 * 50,
};
const defaults = { width: 512, height: 512, steps: 50 };

describe('limitProblems', () => {
  it.each([
    ['the defaults', {}, []],
    ['a picture of exactly max_pixels', { width: 1024, height: 576 }, []],
    ['exactly max_pixel_steps', { width: 768, height: 768, steps: 50 }, []],
    ['512² at 112 steps (under 768² × 50)', { steps: 112 }, []],
  ])('lets %s through', (_case, request, expected) => {
    expect(limitProblems(request, limits, defaults)).toEqual(expected);
  });

  it('refuses more pixels than max_pixels, naming the limit and both sides', () => {
    expect(limitProblems({ width: 1024, height: 1024, steps: 150 }, limits, defaults)).toEqual([
      {
        param: 'width,height',
        message: 'width × height must be at most 589824 pixels for this model (max_pixels); 1024 × 1024 is 1048576',
      },
    ]);
  });

  it('refuses more work than max_pixel_steps, counting a default that was left out', () => {
    // 512² and the default 50 steps fit; 512² at 113 steps does not, nor 768² at the default 50 + 1.
    expect(limitProblems({ steps: 113 }, limits, defaults)).toEqual([
      {
        param: 'width,height,steps',
        message:
          'width × height × steps must be at most 29491200 for this model (max_pixel_steps); 512 × 512 × 113 is 29622272',
      },
    ]);
    expect(limitProblems({ width: 768, height: 768 }, limits, { ...defaults, steps: 51 })[0]?.param).toBe('width,height,steps');
  });

  it('reports a side or step count out of bounds on its own, without the cost on top', () => {
    expect(limitProblems({ width: 2048, height: 2048, steps: 150 }, limits, defaults).map((p) => p.param)).toEqual(['width', 'height']);
  });

  it('holds only the sides and steps when a profile gives no cost limits', () => {
    const { max_pixels: _p, max_pixel_steps: _s, ...sidesOnly } = limits;
    expect(costLimits(sidesOnly)).toEqual({ maxPixels: 1024 * 1024, maxPixelSteps: 1024 * 1024 * 150 });
    expect(limitProblems({ width: 1024, height: 1024, steps: 150 }, sidesOnly, defaults)).toEqual([]);
  });
});

describe('profileProblems', () => {
  it('accepts a consistent profile', () => {
    expect(profileProblems({ limits, defaults })).toEqual([]);
  });

  it.each([
    ['max_pixels under the smallest picture', { ...limits, max_pixels: 64 * 64 - 64 }, defaults, 'limits.max_pixels'],
    ['max_pixel_steps under one step of the smallest picture', { ...limits, max_pixel_steps: 4000 }, defaults, 'limits.max_pixel_steps'],
    ['defaults over max_pixels', { ...limits, max_pixels: 256 * 256 }, defaults, 'defaults.width'],
    ['defaults over max_pixel_steps', { ...limits, max_pixel_steps: 512 * 512 * 49 }, defaults, 'defaults.steps'],
  ])('refuses %s', (_case, profileLimits, profileDefaults, field) => {
    // (The defaults are then out of bounds too, and said so.)
    expect(profileProblems({ limits: profileLimits, defaults: profileDefaults })[0]?.field).toBe(field);
  });

  it('spells the limits one way, snake_case, and refuses any other spelling', () => {
    expect(modelLimitsSchema.safeParse(limits).success).toBe(true);
    expect(modelLimitsSchema.safeParse({ ...limits, maxPixels: 1 }).success).toBe(false);
    expect(modelLimitsSchema.safeParse({ ...limits, max_pixels: 2048 * 2048 + 1 }).success).toBe(false);
  });
});
