// The configuration is parsed once, strictly, into a frozen object; mistakes are reported by name
// without echoing secret values.
import { describe, expect, it } from 'vitest';
import { CACHE_ORIGIN, ConfigError, MIN_URL_SIGNING_KEY_BYTES, MODELS_UNSET, parseConfig } from '../../../edge/config';

const profile = {
  name: 'sd',
  repo: 'CompVis/stable-diffusion-v1-4',
  revision: '133a221b8aa7292a167afc5127cb63fb5005638b',
  defaults: { steps: 50, guidance: 7.5, scheduler: 'pndm', width: 512, height: 512 },
  limits: { min_side: 256, max_side: 1024, side_multiple: 8, max_steps: 100 },
};
const base = { GPU_FUNCTION_URL: 'http://127.0.0.1:8788', MODELS: JSON.stringify([profile]) };

describe('parseConfig', () => {
  it('fills defaults and freezes the result', () => {
    const config = parseConfig(base);
    expect(config).toMatchObject({
      gpu: { url: 'http://127.0.0.1:8788', token: undefined, timeoutMs: 120_000, maxRetries: 2, retryMaxWaitMs: 10_000 },
      rateLimitPerMinute: 10,
      urlSigningKey: undefined,
      apiKeys: [],
    });
    expect(config.defaultModel.name).toBe('sd');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.defaultModel.limits)).toBe(true);
  });

  it('takes MODELS as a JSON string or as a parsed array (a TOML array in wrangler.toml)', () => {
    expect(parseConfig({ ...base, MODELS: [profile] }).models).toEqual(parseConfig(base).models);
  });

  it('reads numbers from strings or numbers, and a list of API keys', () => {
    const config = parseConfig({ ...base, RATE_LIMIT_PER_MINUTE: 0, GPU_TIMEOUT_MS: '5000', API_KEYS: 'a, b\nc' });
    expect(config.rateLimitPerMinute).toBe(0);
    expect(config.gpu.timeoutMs).toBe(5000);
    expect(config.apiKeys).toEqual(['a', 'b', 'c']);
  });

  it('treats empty plain settings as unset', () => {
    expect(parseConfig({ ...base, RATE_LIMIT_PER_MINUTE: '', PUBLIC_ORIGIN: ' ' })).toMatchObject({ rateLimitPerMinute: 10, cacheOrigin: CACHE_ORIGIN });
  });

  it.each(['GPU_FUNCTION_TOKEN', 'URL_SIGNING_KEY', 'API_KEYS'])('refuses %s set but blank: a secret is never "off" by accident', (name) => {
    for (const blank of ['', '   ', '\n']) {
      expect(() => parseConfig({ ...base, [name]: blank })).toThrow(`${name}: is set but blank`);
    }
  });

  it(`refuses a URL_SIGNING_KEY under ${MIN_URL_SIGNING_KEY_BYTES} bytes, counted in UTF-8, without echoing it`, () => {
    const short = 'x'.repeat(MIN_URL_SIGNING_KEY_BYTES - 1);
    expect(() => parseConfig({ ...base, URL_SIGNING_KEY: short })).toThrow(/URL_SIGNING_KEY: must be at least 32 bytes/);
    expect(() => parseConfig({ ...base, URL_SIGNING_KEY: short })).not.toThrow(short);
    expect(parseConfig({ ...base, URL_SIGNING_KEY: 'x'.repeat(MIN_URL_SIGNING_KEY_BYTES) }).urlSigningKey).toHaveLength(32);
    expect(parseConfig({ ...base, URL_SIGNING_KEY: 'é'.repeat(16) }).urlSigningKey).toBe('é'.repeat(16)); // 32 bytes
  });

  it('keys the cache on PUBLIC_ORIGIN, or on a fixed origin without it', () => {
    expect(parseConfig(base).cacheOrigin).toBe(CACHE_ORIGIN);
    expect(parseConfig({ ...base, PUBLIC_ORIGIN: 'https://img.example.com/' }).cacheOrigin).toBe('https://img.example.com');
    expect(() => parseConfig({ ...base, PUBLIC_ORIGIN: 'https://img.example.com/v1' })).toThrow('PUBLIC_ORIGIN');
  });

  it('picks the profile marked default', () => {
    const other = { ...profile, name: 'other', default: true };
    expect(parseConfig({ ...base, MODELS: [profile, other] }).defaultModel.name).toBe('other');
  });

  it.each([undefined, '', '  '])('says that MODELS is unset (%j) and that `npm run deploy` sets it', (models) => {
    expect(() => parseConfig({ ...base, MODELS: models })).toThrow(`MODELS: ${MODELS_UNSET}`);
  });

  it.each([
    ['no MODELS', { MODELS: undefined }, 'MODELS'],
    ['MODELS that is not JSON', { MODELS: '[{' }, 'MODELS'],
    ['an empty MODELS', { MODELS: '[]' }, 'MODELS'],
    ['two profiles without a default', { MODELS: [profile, { ...profile, name: 'b' }] }, 'exactly one profile'],
    ['two defaults', { MODELS: [{ ...profile, default: true }, { ...profile, name: 'b', default: true }] }, 'exactly one profile'],
    ['a duplicated name', { MODELS: [{ ...profile, default: true }, profile] }, 'duplicate model name'],
    ['an unknown scheduler', { MODELS: [{ ...profile, defaults: { ...profile.defaults, scheduler: 'karras' } }] }, 'scheduler'],
    ['a default size outside the limits', { MODELS: [{ ...profile, defaults: { ...profile.defaults, width: 2048 } }] }, 'defaults.width'],
    ['limits beyond the contract', { MODELS: [{ ...profile, limits: { ...profile.limits, max_steps: 500 } }] }, 'max_steps'],
    ['an unknown profile field', { MODELS: [{ ...profile, revison: 'x' }] }, 'revison'],
    ['no GPU_FUNCTION_URL for a profile without its own', { GPU_FUNCTION_URL: undefined }, 'GPU_FUNCTION_URL'],
    ['a GPU_FUNCTION_URL that is not http(s)', { GPU_FUNCTION_URL: 'ftp://gpu' }, 'GPU_FUNCTION_URL'],
    ['a negative rate limit', { RATE_LIMIT_PER_MINUTE: '-1' }, 'RATE_LIMIT_PER_MINUTE'],
    ['a fractional timeout', { GPU_TIMEOUT_MS: '1.5' }, 'GPU_TIMEOUT_MS'],
  ])('refuses %s', (_label, change, mention) => {
    expect(() => parseConfig({ ...base, ...change })).toThrow(ConfigError);
    expect(() => parseConfig({ ...base, ...change })).toThrow(mention);
  });

  it('does not need GPU_FUNCTION_URL when every profile has its own', () => {
    const routed = { ...profile, gpu_function_url: 'https://gpu.example.com' };
    expect(parseConfig({ MODELS: [routed] }).gpu.url).toBeUndefined();
  });

  it('never puts a setting’s value into its error message', () => {
    const secretish = 'http://user:hunter2@gpu.invalid:notaport';
    expect(() => parseConfig({ ...base, GPU_FUNCTION_URL: secretish })).toThrow(ConfigError);
    try {
      parseConfig({ ...base, GPU_FUNCTION_URL: secretish });
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });
});
