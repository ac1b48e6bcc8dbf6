// How MODEL is read: Hub repo ids (with or without @revision) versus local folders.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, formatModelSpec, parseModelSpec, type ModelSpec } from '../../../gpu-function/model/model-spec';

const cwd = '/srv/app';
// Folders that "exist" for these cases; everything else does not.
const existing = new Set(['/srv/app/models/sd15', '/srv/app/CompVis/stable-diffusion-v1-4', '/srv/app/tiny']);
const isDirectory = (path: string) => existing.has(path);

const cases: readonly [string, ModelSpec][] = [
  ['', { kind: 'hub', repo: 'CompVis/stable-diffusion-v1-4', revision: 'onnx' }],
  ['   ', { kind: 'hub', repo: 'CompVis/stable-diffusion-v1-4', revision: 'onnx' }],
  ['runwayml/stable-diffusion-v1-5', { kind: 'hub', repo: 'runwayml/stable-diffusion-v1-5', revision: 'main' }],
  ['runwayml/stable-diffusion-v1-5@onnx', { kind: 'hub', repo: 'runwayml/stable-diffusion-v1-5', revision: 'onnx' }],
  [
    'org/model.v2@0123456789abcdef0123456789abcdef01234567',
    { kind: 'hub', repo: 'org/model.v2', revision: '0123456789abcdef0123456789abcdef01234567' },
  ],
  ['org/model@refs/pr/12', { kind: 'hub', repo: 'org/model', revision: 'refs/pr/12' }],
  ['  org/model@v1.0  ', { kind: 'hub', repo: 'org/model', revision: 'v1.0' }],
  ['/models/sd', { kind: 'local', path: '/models/sd' }],
  ['./test/fixtures/tiny-sd', { kind: 'local', path: '/srv/app/test/fixtures/tiny-sd' }],
  ['../elsewhere/model', { kind: 'local', path: '/srv/elsewhere/model' }],
  ['.', { kind: 'local', path: '/srv/app' }],
  // An existing folder wins over a Hub id of the same spelling, as in diffusers' from_pretrained.
  ['models/sd15', { kind: 'local', path: '/srv/app/models/sd15' }],
  ['CompVis/stable-diffusion-v1-4', { kind: 'local', path: '/srv/app/CompVis/stable-diffusion-v1-4' }],
  ['tiny', { kind: 'local', path: '/srv/app/tiny' }],
];

describe('parseModelSpec', () => {
  it.each(cases)('%j', (spec, expected) => {
    expect(parseModelSpec(spec, { cwd, isDirectory })).toEqual(expected);
  });

  it.each([
    ['stable-diffusion', /neither a folder on disk nor a Hub repo id/],
    ['a/b/c', /neither a folder on disk nor a Hub repo id/],
    ['org/-bad', /neither a folder on disk nor a Hub repo id/],
    ['org/na--me', /neither a folder on disk nor a Hub repo id/],
    ['org/name@', /"" is not a valid revision/],
    ['org/name@../../etc', /not a valid revision/],
    ['org/name@/abs', /not a valid revision/],
    ['org/name@has space', /not a valid revision/],
    ['https://huggingface.co/org/name', /neither a folder on disk nor a Hub repo id/],
  ])('refuses %j', (spec, message) => {
    expect(() => parseModelSpec(spec, { cwd, isDirectory })).toThrow(message);
  });

  it('defaults to the SD 1.4 ONNX branch', () => {
    expect(DEFAULT_MODEL).toBe('CompVis/stable-diffusion-v1-4@onnx');
  });

  it('checks the real disk when no isDirectory is given', () => {
    expect(parseModelSpec('test/fixtures/tiny-sd', { cwd: process.cwd() })).toEqual({
      kind: 'local',
      path: `${process.cwd()}/test/fixtures/tiny-sd`,
    });
    expect(parseModelSpec('fixtures-missing/x', { cwd: process.cwd() }).kind).toBe('hub');
  });

  it('formats a spec for logs', () => {
    expect(formatModelSpec({ kind: 'hub', repo: 'a/b', revision: 'main' })).toBe('a/b@main');
    expect(formatModelSpec({ kind: 'local', path: '/m' })).toBe('/m');
  });
});
