// Retry-After (RFC 9110 §10.2.3) in both of its forms.
import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../edge/generation/gpu-client';

const NOW = Date.parse('2026-04-01T12:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['120', 120],
    [' 5 ', 5],
    ['Wed, 01 Apr 2026 12:00:30 GMT', 30],
    ['Wed, 01 Apr 2026 11:00:00 GMT', 0], // in the past: retry now
  ])('%j → %d s', (value, seconds) => {
    expect(parseRetryAfter(value, NOW)).toBe(seconds);
  });

  it.each([null, '', '-1', '1.5', 'soon'])('%j → undefined', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});
