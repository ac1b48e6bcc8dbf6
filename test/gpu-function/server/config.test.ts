// gpu-function/config.ts: the environment parsed once into a frozen config (tests of the config module
// live with the server's, which is its only reader). Defaults are DESIGN.md's and diffusers' __call__'s;
// every bad variable is named, and no value — a token above all — is ever echoed.
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, isLoopbackHost } from '../../../gpu-function/config';

const HOME = { HF_HOME: '/tmp/hf-home-for-config-test' };

describe('defaults', () => {
  it('serves on 127.0.0.1:8788 with diffusers defaults and the documented limits', () => {
    const config = configFromEnv(HOME);
    expect(config).toMatchObject({
      model: '',
      host: '127.0.0.1',
      port: 8788,
      healthPort: undefined,
      token: undefined,
      provider: 'auto',
      intraOpThreads: undefined,
      batching: { maxBatchSize: 4, batchTimeoutMs: 0, maxQueue: 32, maxBatchPixels: undefined },
      requestTimeoutMs: 120_000,
      shutdownGraceMs: 25_000,
      limits: { min_side: 64, max_side: 1024, side_multiple: 64, max_steps: 150 },
      defaults: { steps: 50, guidance: 7.5, width: 512, height: 512, scheduler: undefined },
      warmupSteps: 2,
      memoryLimitMb: undefined,
      listenWhenReady: false,
      hub: { cacheDir: '/tmp/hf-home-for-config-test/hub', offline: false },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.limits)).toBe(true);
    expect(Object.isFrozen(config.batching)).toBe(true);
  });

  it('treats empty values as unset, except a secret', () => {
    const config = configFromEnv({ ...HOME, PORT: '', DEFAULT_SCHEDULER: '' });
    expect([config.port, config.token, config.defaults.scheduler]).toEqual([8788, undefined, undefined]);
  });
});

describe('each variable', () => {
  it('reads every setting', () => {
    const config = configFromEnv({
      ...HOME,
      MODEL: 'org/model@abc',
      HOST: '0.0.0.0',
      PORT: '0',
      PORT_HEALTH: '8081',
      GPU_FUNCTION_TOKEN: 's3cret',
      METRICS_TOKEN: 'm3trics',
      METRICS_ON_HEALTH_PORT_ONLY: '1',
      EXECUTION_PROVIDER: 'cuda',
      INTRA_OP_THREADS: '3',
      MAX_BATCH_SIZE: '8',
      BATCH_TIMEOUT_MS: '25',
      MAX_QUEUE: '0',
      REQUEST_TIMEOUT_MS: '5000',
      SHUTDOWN_GRACE_MS: '1000',
      MIN_SIDE: '256',
      MAX_SIDE: '768',
      SIDE_MULTIPLE: '128',
      MAX_STEPS: '60',
      MAX_PIXELS: '196608',
      MAX_PIXEL_STEPS: '5000000',
      MAX_BATCH_PIXELS: '786432',
      DEFAULT_STEPS: '25',
      DEFAULT_GUIDANCE: '5.5',
      DEFAULT_WIDTH: '768',
      DEFAULT_HEIGHT: '256',
      DEFAULT_SCHEDULER: 'euler_a',
      WARMUP_STEPS: '0',
      MEMORY_LIMIT_MB: '16384',
      LISTEN_WHEN_READY: '1',
      HF_HUB_OFFLINE: '1',
    });
    expect(config).toMatchObject({
      model: 'org/model@abc',
      host: '0.0.0.0',
      port: 0,
      healthPort: 8081,
      token: 's3cret',
      metricsToken: 'm3trics',
      metricsOnHealthPortOnly: true,
      provider: 'cuda',
      intraOpThreads: 3,
      batching: { maxBatchSize: 8, batchTimeoutMs: 25, maxQueue: 0, maxBatchPixels: 786_432 },
      requestTimeoutMs: 5000,
      shutdownGraceMs: 1000,
      limits: { min_side: 256, max_side: 768, side_multiple: 128, max_steps: 60, max_pixels: 196_608, max_pixel_steps: 5_000_000 },
      defaults: { steps: 25, guidance: 5.5, width: 768, height: 256, scheduler: 'euler_a' },
      warmupSteps: 0,
      memoryLimitMb: 16_384,
      listenWhenReady: true,
      hub: { offline: true },
    });
  });

  it('needs no second listener when PORT_HEALTH equals PORT (RunPod sets both to the same port by default)', () => {
    expect(configFromEnv({ ...HOME, PORT: '80', PORT_HEALTH: '80' }).healthPort).toBeUndefined();
  });
});

describe('settings that would leave the service open', () => {
  // Each of these started an open service before: a blank token meant "no token".
  it.each([
    [{ GPU_FUNCTION_TOKEN: '' }, 'GPU_FUNCTION_TOKEN: is set but blank'],
    [{ GPU_FUNCTION_TOKEN: '   ' }, 'GPU_FUNCTION_TOKEN: is set but blank'],
    [{ METRICS_TOKEN: '\t' }, 'METRICS_TOKEN: is set but blank'],
    [{ GPU_FUNCTION_TOKEN: 'token-with-a-newline\n' }, 'GPU_FUNCTION_TOKEN: must not start or end with white space'],
    [{ HOST: '0.0.0.0' }, 'HOST: is not a loopback address, and GPU_FUNCTION_TOKEN is not set'],
    [{ HOST: '::' }, 'HOST: is not a loopback address'],
    [{ HOST: '10.0.0.7' }, 'HOST: is not a loopback address'],
    [{ HOST: '0.0.0.0', GPU_FUNCTION_TOKEN: ' ' }, 'GPU_FUNCTION_TOKEN: is set but blank'],
    [{ METRICS_ON_HEALTH_PORT_ONLY: '1' }, 'METRICS_ON_HEALTH_PORT_ONLY: needs PORT_HEALTH'],
    [{ METRICS_ON_HEALTH_PORT_ONLY: '1', PORT: '80', PORT_HEALTH: '80' }, 'METRICS_ON_HEALTH_PORT_ONLY: needs PORT_HEALTH'],
  ])('%o stops the start with %s', (env, expected) => {
    expect(() => configFromEnv({ ...HOME, ...env })).toThrow(ConfigError);
    expect(() => configFromEnv({ ...HOME, ...env })).toThrow(expected);
  });

  it('starts on a non-loopback HOST with a token, or when ALLOW_UNAUTHENTICATED=1 says something in front authenticates', () => {
    expect(configFromEnv({ ...HOME, HOST: '0.0.0.0', GPU_FUNCTION_TOKEN: 't' }).token).toBe('t');
    const open = configFromEnv({ ...HOME, HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: '1' });
    expect([open.host, open.token]).toEqual(['0.0.0.0', undefined]);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.3.2.1', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.20', false],
    ['128.0.0.1', false],
    ['localhost.example.com', false],
    ['gpu.internal', false],
  ])('counts %s as loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe('bad values', () => {
  it.each([
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '80a' }, 'PORT: must be a whole number'],
    [{ EXECUTION_PROVIDER: 'rocm' }, 'EXECUTION_PROVIDER'],
    [{ MAX_BATCH_SIZE: '0' }, 'MAX_BATCH_SIZE'],
    [{ BATCH_TIMEOUT_MS: '-5' }, 'BATCH_TIMEOUT_MS'],
    [{ REQUEST_TIMEOUT_MS: '0' }, 'REQUEST_TIMEOUT_MS'],
    [{ DEFAULT_GUIDANCE: '31' }, 'DEFAULT_GUIDANCE'],
    [{ DEFAULT_GUIDANCE: 'high' }, 'DEFAULT_GUIDANCE: must be a number'],
    [{ DEFAULT_SCHEDULER: 'k_lms' }, 'DEFAULT_SCHEDULER'],
    [{ MAX_STEPS: '151' }, 'MAX_STEPS'],
    [{ MAX_SIDE: '4096' }, 'MAX_SIDE'],
    [{ SIDE_MULTIPLE: '12' }, 'SIDE_MULTIPLE: must be a multiple of 8'],
    [{ MIN_SIDE: '512', MAX_SIDE: '256', DEFAULT_WIDTH: '256', DEFAULT_HEIGHT: '256' }, 'MIN_SIDE: must not exceed MAX_SIDE'],
    [{ MIN_SIDE: '96' }, 'MIN_SIDE: must be a multiple of SIDE_MULTIPLE'],
    [{ DEFAULT_WIDTH: '2048' }, 'DEFAULT_WIDTH: must lie within'],
    [{ DEFAULT_HEIGHT: '520' }, 'DEFAULT_HEIGHT: must lie within'],
    [{ MAX_STEPS: '40' }, 'DEFAULT_STEPS: must not exceed MAX_STEPS'],
    [{ LISTEN_WHEN_READY: 'yes' }, 'LISTEN_WHEN_READY'],
    [{ MAX_PIXELS: '4194305' }, 'MAX_PIXELS'],
    [{ MAX_PIXELS: '65536' }, 'DEFAULT_WIDTH: width × height must not exceed MAX_PIXELS'],
    [{ MAX_PIXEL_STEPS: '1000000' }, 'DEFAULT_STEPS: width × height × steps must not exceed MAX_PIXEL_STEPS'],
    [{ MAX_PIXELS: '262144', MAX_BATCH_PIXELS: '131072' }, 'MAX_BATCH_PIXELS: must be at least MAX_PIXELS'],
  ])('%o is a ConfigError naming %s', (env, expected) => {
    let error: unknown;
    try {
      configFromEnv({ ...HOME, ...env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.some((p) => p.startsWith(expected))).toBe(true);
    // Never the value itself (a mistyped token would otherwise end up in the log).
    for (const value of Object.values(env)) expect((error as Error).message).not.toContain(`"${value}"`);
  });

  it('names every bad variable at once', () => {
    expect(() => configFromEnv({ ...HOME, PORT: 'x', MAX_QUEUE: 'y', WARMUP_STEPS: 'z' })).toThrow(
      /PORT: .*\n.*MAX_QUEUE: .*\n.*WARMUP_STEPS: /,
    );
  });
});
