// npm start's settings: a URL_SIGNING_KEY the edge would refuse stops npm start before it serves,
// by name and without echoing the key; an empty one is no key, as everywhere in npm start.
import { describe, expect, it } from 'vitest';
import { parseStackConfig, StackConfigError } from '../../scripts/stack/stack-config';

const LOCAL = { MODEL: 'test/fixtures/tiny-sd' };

describe('parseStackConfig: URL_SIGNING_KEY', () => {
  it('refuses a key under 32 bytes, naming the setting but not the key', () => {
    const short = 'too-short-signing-key';
    expect(() => parseStackConfig({ ...LOCAL, URL_SIGNING_KEY: short })).toThrow(StackConfigError);
    expect(() => parseStackConfig({ ...LOCAL, URL_SIGNING_KEY: short })).toThrow(/URL_SIGNING_KEY: must be at least 32 bytes/);
    expect(() => parseStackConfig({ ...LOCAL, URL_SIGNING_KEY: short })).not.toThrow(short);
  });

  it('passes a long enough key to the edge as a secret, and an empty one not at all', () => {
    const key = 'k'.repeat(32);
    expect(parseStackConfig({ ...LOCAL, URL_SIGNING_KEY: key }).edgeSecrets).toEqual({ URL_SIGNING_KEY: key });
    expect(parseStackConfig({ ...LOCAL, URL_SIGNING_KEY: '' }).edgeSecrets).toEqual({});
  });
});
