// `npm run deploy`'s settings (command line and environment, parsed once) and the wrangler config it
// writes: wrangler.toml as it is, plus the two vars a deployment must not get wrong — MODELS, one
// profile pinned to the commit the GPU function serves, and GPU_FUNCTION_URL. The file is a complete
// wrangler config (`wrangler deploy --config <it>` deploys it again) and is what the script deploys.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { unsetIfBlank } from '../../contract';
import type { ModelProfile } from '../../edge/config';
import { hubSettingsFromEnv, type HubSettings } from '../../gpu-function/model/hub-settings';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DEFAULT_OUT = 'dist/wrangler.deploy.jsonc';

export class DeployUsageError extends Error {
  override readonly name = 'DeployUsageError';
}

export interface DeploySettings {
  /** Where the deployed edge sends generations; also where the profile is read from without `model`. */
  readonly gpuFunctionUrl: string;
  /** Sent to GET /v1/model (the GPU function's token); never printed. */
  readonly gpuFunctionToken: string | undefined;
  /** MODEL as the GPU function is given it (a Hub repo or folder): worked out from its files instead. */
  readonly model: string | undefined;
  /** With `model`: where that GPU function runs, for its built-in cost limits (max_pixels, max_pixel_steps). */
  readonly provider: 'cuda' | 'cpu';
  readonly hub: Pick<HubSettings, 'hubUrl' | 'token'>;
  /** The wrangler config this reads (wrangler.toml) and the one it writes. */
  readonly wranglerConfig: string;
  readonly out: string;
  readonly dryRun: boolean;
  /** How long to wait for a GPU function that is still starting. */
  readonly waitMs: number;
  /** Passed on to `wrangler deploy` (after `--`). */
  readonly wranglerArgs: readonly string[];
}

export const USAGE = `npm run deploy -- --gpu-function-url <url> [--model <org/name[@revision]> | <folder> [--provider cuda|cpu]] [--dry-run]
                  [--out ${DEFAULT_OUT}] [--wait-seconds 600] [-- <wrangler deploy options>]
  Pins the model the GPU function serves (GET <url>/v1/model, with GPU_FUNCTION_TOKEN) in the edge's
  MODELS, or with --model the one the Hub's revision points at (HF_TOKEN, HF_ENDPOINT), writes the
  wrangler config and runs \`wrangler deploy\` with it.`;

export function parseDeploySettings(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): DeploySettings {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        'gpu-function-url': { type: 'string' },
        model: { type: 'string' },
        provider: { type: 'string', default: 'cuda' },
        out: { type: 'string', default: DEFAULT_OUT },
        config: { type: 'string', default: 'wrangler.toml' },
        'dry-run': { type: 'boolean', default: false },
        'wait-seconds': { type: 'string', default: '600' },
      },
    });
  } catch (error) {
    throw new DeployUsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const url = values['gpu-function-url'] ?? unsetIfBlank(env.GPU_FUNCTION_URL);
  if (url === undefined) throw new DeployUsageError('--gpu-function-url (or GPU_FUNCTION_URL) is required');
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) throw new DeployUsageError(`--gpu-function-url ${url} is not an http(s) URL`);
  const dryRun = values['dry-run'];
  if (!dryRun && isLoopback(new URL(url).hostname)) {
    throw new DeployUsageError(`--gpu-function-url ${url} is this machine's loopback: a deployed Worker cannot reach it`);
  }
  const provider = values.provider;
  if (provider !== 'cuda' && provider !== 'cpu') throw new DeployUsageError('--provider must be cuda or cpu');
  const wait = values['wait-seconds'];
  if (!/^\d{1,6}$/.test(wait)) throw new DeployUsageError('--wait-seconds must be a whole number of seconds');
  return {
    gpuFunctionUrl: url.replace(/\/+$/, ''),
    gpuFunctionToken: unsetIfBlank(env.GPU_FUNCTION_TOKEN),
    model: unsetIfBlank(values.model),
    provider,
    hub: hubSettingsFromEnv(env),
    wranglerConfig: resolve(ROOT, values.config),
    out: resolve(ROOT, values.out),
    dryRun,
    waitMs: Number(wait) * 1000,
    wranglerArgs: positionals,
  };
}

/**
 * Writes the deploy config: the raw wrangler config with `main` re-pointed from the new file's folder,
 * and [vars] MODELS and GPU_FUNCTION_URL set (replacing any there). Returns what MODELS held before.
 */
export async function writeDeployConfig(settings: DeploySettings, profile: ModelProfile): Promise<{ replacedModels: boolean }> {
  // Imported here, not above: loading wrangler takes seconds, which a usage mistake should not wait for.
  const { experimental_readRawConfig } = await import('wrangler');
  const { rawConfig } = experimental_readRawConfig({ config: settings.wranglerConfig });
  const main = rawConfig.main;
  if (main === undefined) throw new Error(`${settings.wranglerConfig} names no main module`);
  const vars = { ...(rawConfig.vars ?? {}) };
  const replacedModels = vars.MODELS !== undefined;
  const config = {
    ...rawConfig,
    main: relative(dirname(settings.out), isAbsolute(main) ? main : join(dirname(settings.wranglerConfig), main)),
    vars: { ...vars, GPU_FUNCTION_URL: settings.gpuFunctionUrl, MODELS: [profile] },
  };
  mkdirSync(dirname(settings.out), { recursive: true });
  const header =
    `// Generated by \`npm run deploy\` from ${relative(ROOT, settings.wranglerConfig)} (do not edit: edit that and deploy\n` +
    '// again). MODELS pins the commit the GPU function serves; see docs/deploying.md.\n';
  writeFileSync(settings.out, `${header}${JSON.stringify(config, null, 2)}\n`);
  return { replacedModels };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127\./.test(hostname) || hostname === '[::1]';
}
