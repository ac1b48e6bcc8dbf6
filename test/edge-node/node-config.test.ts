// The Node edge's environment: the Worker's names through the Worker's parser, plus the Node-only
// settings with their defaults; every mistake reported at once, by name, never echoing a value.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../edge/config';
import { parseNodeConfig } from '../../edge/node/node-config';

const MODELS = JSON.stringify([
  {
    name: 'tiny-sd',
    repo: 'tiny-sd',
    revision: 'local-0123456789abcdef',
    defaults: { steps: 4, guidance: 7.5, scheduler: 'pndm', width: 64, height: 64 },
    limits: { min_side: 32, max_side: 256, side_multiple: 8, max_steps: 50 },
  },
]);
const MINIMAL = { GPU_FUNCTION_URL: 'http://127.0.0.1:8788', MODELS, S3_BUCKET: 'dreamurl-images' };

function configError(env: Record<string, string>): string {
  try {
    parseNodeConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseNodeConfig', () => {
  it('fills the defaults: 127.0.0.1:8787, AWS us-east-1 with the default credential chain, a 256 MiB LRU', () => {
    const config = parseNodeConfig(MINIMAL);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(config.s3).toEqual({ endpoint: undefined, region: 'us-east-1', bucket: 'dreamurl-images', credentials: undefined, forcePathStyle: false });
    expect(config.imageCacheMaxBytes).toBe(268_435_456);
    expect(config.clientIpHeader).toBeUndefined();
    expect(config.shutdownTimeoutMs).toBe(30_000);
    expect(config.clientTimeoutMs).toBe(30_000);
    expect(config.maxConnections).toBe(1024);
    // The Worker's settings, parsed by the Worker's parser with the Worker's defaults.
    expect(config.edge.rateLimitPerMinute).toBe(10);
    expect(config.edge.gpu).toMatchObject({ url: 'http://127.0.0.1:8788', timeoutMs: 120_000 });
    expect(config.edge.defaultModel.name).toBe('tiny-sd');
    expect(Object.isFrozen(config) && Object.isFrozen(config.s3)).toBe(true);
  });

  it('reads every Node setting', () => {
    const config = parseNodeConfig({
      ...MINIMAL,
      HOST: '0.0.0.0',
      PORT: '9000',
      S3_ENDPOINT: 'https://abc123.r2.cloudflarestorage.com',
      S3_REGION: 'auto',
      S3_ACCESS_KEY_ID: 'key-id',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'true',
      IMAGE_CACHE_MAX_BYTES: '0',
      CLIENT_IP_HEADER: 'X-Forwarded-For',
      SHUTDOWN_TIMEOUT_MS: '5000',
      CLIENT_TIMEOUT_MS: '2000',
      MAX_CONNECTIONS: '64',
      RATE_LIMIT_PER_MINUTE: '3',
    });
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(config.s3).toEqual({
      endpoint: 'https://abc123.r2.cloudflarestorage.com',
      region: 'auto',
      bucket: 'dreamurl-images',
      credentials: { accessKeyId: 'key-id', secretAccessKey: 'secret' },
      forcePathStyle: true,
    });
    expect(config.imageCacheMaxBytes).toBe(0);
    expect(config.clientIpHeader).toBe('X-Forwarded-For');
    expect(config.shutdownTimeoutMs).toBe(5000);
    expect([config.clientTimeoutMs, config.maxConnections]).toEqual([2000, 64]);
    expect(config.edge.rateLimitPerMinute).toBe(3);
  });

  it.each([
    ['true', true], ['TRUE', true], ['1', true], ['yes', true],
    ['false', false], ['0', false], ['no', false], ['', false],
  ])('reads S3_FORCE_PATH_STYLE=%j as %s', (value, expected) => {
    expect(parseNodeConfig({ ...MINIMAL, S3_FORCE_PATH_STYLE: value }).s3.forcePathStyle).toBe(expected);
  });

  it('treats empty values as unset', () => {
    const config = parseNodeConfig({ ...MINIMAL, S3_ENDPOINT: '', S3_ACCESS_KEY_ID: '', S3_SECRET_ACCESS_KEY: '', PORT: '' });
    expect(config.s3.endpoint).toBeUndefined();
    expect(config.s3.credentials).toBeUndefined();
    expect(config.listen.port).toBe(8787);
  });

  it('reports every bad setting, the Worker’s and the Node ones, by name and never by value', () => {
    const message = configError({
      GPU_FUNCTION_URL: 'not a url',
      MODELS,
      PORT: '70000',
      S3_ENDPOINT: 'ftp://store.example',
      S3_FORCE_PATH_STYLE: 'maybe',
      S3_ACCESS_KEY_ID: 'AKIA-ONLY-THE-ID',
      CLIENT_IP_HEADER: 'X Forwarded For',
    });
    for (const name of ['GPU_FUNCTION_URL', 'PORT', 'S3_ENDPOINT', 'S3_BUCKET: is required', 'S3_FORCE_PATH_STYLE: must be true or false', 'CLIENT_IP_HEADER']) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('AKIA-ONLY-THE-ID');
  });

  it('refuses the Worker’s secrets set but blank, as the Worker does', () => {
    const message = configError({ ...MINIMAL, GPU_FUNCTION_TOKEN: '', URL_SIGNING_KEY: ' ', API_KEYS: '' });
    for (const name of ['GPU_FUNCTION_TOKEN', 'URL_SIGNING_KEY', 'API_KEYS']) expect(message).toContain(`${name}: is set but blank`);
  });

  it('needs both S3 credentials or neither', () => {
    expect(configError({ ...MINIMAL, S3_SECRET_ACCESS_KEY: 'only-the-secret' })).toMatch(
      /S3_SECRET_ACCESS_KEY: set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither/,
    );
  });

  it('refuses a bucket name S3 would refuse', () => {
    expect(configError({ ...MINIMAL, S3_BUCKET: 'Images_Bucket' })).toContain('S3_BUCKET: must be a bucket name');
  });
});
