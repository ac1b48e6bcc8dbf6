// Mints a signed picture URL for a site owner:
//   URL_SIGNING_KEY=… npm run sign -- --prompt "a lighthouse at dusk" [--seed 42] [--steps 30]
//     [--guidance 7.5] [--width 512] [--height 512] [--scheduler euler] [--model sd-v1-4]
//     [--negative-prompt "fog"] [--exp <Unix seconds>] [--origin https://img.example.com]
// The key comes only from the environment, never from the command line (shell history, ps).
// Only the parameters given are signed; the edge fills in the rest from the model's defaults.
import { parseArgs } from 'node:util';
import { signedImageUrl } from '../edge/request/url-signature';

/** Command-line flag → query parameter. */
const PARAMS: Readonly<Record<string, string>> = {
  prompt: 'prompt',
  'negative-prompt': 'negative_prompt',
  seed: 'seed',
  steps: 'steps',
  guidance: 'guidance',
  width: 'width',
  height: 'height',
  scheduler: 'scheduler',
  model: 'model',
  /** The signature stops letting the URL generate after this second (docs/edge-api.md, Signed URLs). */
  exp: 'exp',
};

function usage(message: string): never {
  const flags = Object.keys(PARAMS).filter((f) => f !== 'prompt').map((f) => `[--${f} …]`).join(' ');
  console.error(`${message}\nusage: URL_SIGNING_KEY=… npm run sign -- --prompt "…" ${flags} [--origin URL]`);
  process.exit(2);
}

function readFlags(): Record<string, string | undefined> {
  try {
    const options = Object.fromEntries([...Object.keys(PARAMS), 'origin'].map((flag) => [flag, { type: 'string' as const }]));
    return parseArgs({ options, strict: true }).values as Record<string, string | undefined>;
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
}

const flags = readFlags();
const key = process.env.URL_SIGNING_KEY;
if (key === undefined || key === '') usage('URL_SIGNING_KEY is not set.');
if (flags.prompt === undefined) usage('--prompt is required.');

const params = Object.entries(PARAMS).flatMap(([flag, param]): [string, string][] => {
  const value = flags[flag];
  return value === undefined ? [] : [[param, value]];
});
const origin = flags.origin ?? process.env.PUBLIC_ORIGIN ?? 'http://127.0.0.1:8787';
console.log(await signedImageUrl(origin, params, key));
