// `npm run deploy`: the edge Worker deployed with its model pinned, so its first picture is not a 502.
//   1. The model: GET <gpu-function-url>/v1/model — exactly the `<id>@<revision>` (a commit sha, or
//      `local-<hex>`) the GPU function puts in X-Model, and its defaults and limits — waiting while it
//      still starts; or, with --model, the same worked out from the Hub (or a folder) without it running.
//   2. The edge profile: one MODELS entry built by the edge's own schema (profileFromModelInfo).
//   3. The config: wrangler.toml plus MODELS and GPU_FUNCTION_URL, written to dist/wrangler.deploy.jsonc.
//   4. `wrangler deploy --config <that file>` (with --dry-run: bundles and checks, uploads nothing).
// Secrets are not touched: GPU_FUNCTION_TOKEN and the others stay `wrangler secret put` (docs/deploying.md).
// Exit status: wrangler's; 2 for a usage mistake; 1 when the model cannot be read.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import type { ModelInfo } from '../contract';
import { profileFromModelInfo, waitForModelInfo } from '../edge/generation/gpu-model-profile';
import { DeployUsageError, parseDeploySettings, ROOT, USAGE, type DeploySettings, writeDeployConfig } from './deploy/deploy-config';

const WRANGLER_CLI = createRequire(import.meta.url).resolve('wrangler');

/** A path inside the repository relative to it, any other as it is. */
function shown(path: string): string {
  const inside = relative(ROOT, path);
  return inside.startsWith('..') ? path : inside;
}

function say(line: string): void {
  process.stdout.write(`deploy: ${line}\n`);
}

async function readModel(settings: DeploySettings): Promise<ModelInfo> {
  if (settings.model !== undefined) {
    say(`working out ${settings.model} from its files (the GPU function's built-in settings)`);
    // Imported only on this path: it brings the GPU function's model code along.
    const { modelInfoFromFiles } = await import('./deploy/model-info-from-files');
    return modelInfoFromFiles(settings.model, settings.hub, settings.provider);
  }
  say(`reading the model from ${settings.gpuFunctionUrl}/v1/model`);
  return waitForModelInfo(settings.gpuFunctionUrl, settings.gpuFunctionToken, {
    timeoutMs: settings.waitMs,
    onWait: (reason, waitMs) => say(`the GPU function: ${reason}; asking again in ${Math.round(waitMs / 1000)} s`),
  });
}

function runWrangler(settings: DeploySettings): Promise<number> {
  const args = [WRANGLER_CLI, 'deploy', '--config', settings.out, ...(settings.dryRun ? ['--dry-run'] : []), ...settings.wranglerArgs];
  say(`wrangler ${args.slice(1).join(' ')}`);
  const child = spawn(process.execPath, ['--no-warnings', '--experimental-vm-modules', ...args], { cwd: ROOT, stdio: 'inherit' });
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
    child.once('error', (error) => {
      process.stderr.write(`deploy: cannot run wrangler: ${error.message}\n`);
      resolve(1);
    });
  });
}

async function main(): Promise<number> {
  let settings: DeploySettings;
  try {
    settings = parseDeploySettings(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof DeployUsageError)) throw error;
    process.stderr.write(`deploy: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  let info: ModelInfo;
  try {
    info = await readModel(settings);
  } catch (error) {
    process.stderr.write(`deploy: cannot pin the model: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const profile = profileFromModelInfo(info);
  const { replacedModels } = await writeDeployConfig(settings, profile);
  const d = profile.defaults;
  say(`model ${info.model} as "${profile.name}" (${d.width}×${d.height}, ${d.steps} steps, ${d.scheduler})`);
  if (replacedModels) say(`${shown(settings.wranglerConfig)} has MODELS of its own: replaced by this profile`);
  say(`wrote ${shown(settings.out)}`);
  return runWrangler(settings);
}

process.exitCode = await main();
