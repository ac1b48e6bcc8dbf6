// `npm start`: the whole stack on this machine, wired together.
//
//   browser ──GET /v1/images?prompt=…──▶ edge: wrangler dev, 127.0.0.1:8787      (edge/worker.ts)
//                                          local R2, Cache API, Durable Objects in .wrangler/state
//                                          │ miss: POST /v1/generate, Authorization: Bearer <token>
//                                          ▼
//                                        GPU function, 127.0.0.1:8788           (gpu-function/server/main.ts)
//                                          MODEL: a Hub repo (downloaded once) or a local folder
//
// In order: parse the settings (scripts/stack/stack-config.ts); start the GPU function with a fresh
// random token and wait until its model is loaded and warm (GET /ping → 200); read GET /v1/model to
// build the edge's model profile, so the edge pins exactly that model and its defaults; start wrangler
// dev with that profile, the GPU function's URL and the same token (as a secret, never printed); print
// where to open the page. Ctrl-C or SIGTERM stops both children (the GPU function drains) and removes
// the temporary secrets file. Settings and ports: docs/getting-started.md.
import { randomBytes } from 'node:crypto';
import { printEdgeLine, printGpuLog, say, sayError } from './stack/console-output';
import { GpuStartupError, spawnGpuFunction, type GpuFunctionProcess } from './stack/gpu-function-process';
import { profileFromModelInfo, readModelInfo } from '../edge/generation/gpu-model-profile';
import { parseStackConfig, StackConfigError, type StackConfig } from './stack/stack-config';
import { spawnWranglerDev, type WranglerDev } from './stack/wrangler-dev';

const inherited = process.env;
const config = readConfig();
/** Shared by both sides, new on every run: only this edge may use this GPU function. */
const token = randomBytes(32).toString('hex');

let gpu: GpuFunctionProcess | undefined;
let edge: WranglerDev | undefined;
let stopping = false;
let firstSignalAt = 0;
/**
 * One Ctrl-C can reach us two or three times within milliseconds: from the terminal, and relayed by
 * npm (`npm start` runs `node --import tsx scripts/start.ts`) or by tsx's CLI when started with `tsx`. Only a signal that comes later than
 * this after the first counts as a second Ctrl-C (kill both parts now instead of waiting for them).
 */
const REPEATED_SIGNAL_MS = 1_000;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (!stopping) {
      firstSignalAt = performance.now();
      void stop(signal);
    } else if (performance.now() - firstSignalAt > REPEATED_SIGNAL_MS) {
      sayError(`${signal} again: killing both parts now`);
      process.exit(130); // the 'exit' handler kills them
    }
  });
}
// Last resort (an uncaught error, process.exit anywhere): no child may outlive us.
process.on('exit', () => {
  edge?.forceStop();
  gpu?.forceStop();
});

try {
  // 1. The GPU function: loads the model (downloading it on a first run) and warms it up.
  say(`starting the GPU function with MODEL=${config.model} ${modelNote(config)}`);
  gpu = spawnGpuFunction({
    env: { ...inherited, ...config.gpuSettings, MODEL: config.model, HOST: config.host, PORT: String(config.gpuPort), GPU_FUNCTION_TOKEN: token },
    onLog: printGpuLog,
  });
  const gpuUrl = await gpu.ready();

  // 2. The edge's model profile: exactly the model the GPU function serves (<id>@<revision>).
  const info = await readModelInfo(gpuUrl, token);
  const profile = profileFromModelInfo(info);
  const d = profile.defaults;
  say(`model ${info.model} is ready (${d.width}×${d.height}, ${d.steps} steps, ${d.scheduler}); starting the edge (wrangler dev)`);

  // 3. The edge: wrangler dev with the profile, the GPU function's URL and the shared token.
  if (stopping) throw new Error('stopped during start-up');
  edge = spawnWranglerDev({
    host: config.host,
    port: config.edgePort,
    vars: { ...config.edgeVars, GPU_FUNCTION_URL: gpuUrl, MODELS: JSON.stringify([profile]) },
    secrets: { ...config.edgeSecrets, GPU_FUNCTION_TOKEN: token },
    persistTo: config.edgeStateDir,
    env: inherited,
    onLine: printEdgeLine,
  });
  const edgeUrl = await edge.ready();

  say(`open ${edgeUrl}/ in a browser (the demo page). Ctrl-C stops both parts.`);
  say(`a picture URL: ${edgeUrl}/v1/images?prompt=a+lighthouse+at+dusk${config.edgeSecrets.URL_SIGNING_KEY === undefined ? '' : ' (signing is on: mint URLs with `npm run sign`)'}`);
  watchForCrashes(gpu, edge);
} catch (error) {
  if (!stopping) {
    explainStartupFailure(error);
    await stop('startup failure', 1);
  }
}

function readConfig(): StackConfig {
  try {
    return parseStackConfig(process.env);
  } catch (error) {
    if (!(error instanceof StackConfigError)) throw error;
    sayError(error.message);
    process.exit(2);
  }
}

function modelNote(c: StackConfig): string {
  return c.modelIsLocal
    ? '(a local folder)'
    : '(from the Hugging Face Hub: a first run downloads it into the Hugging Face cache, progress below; later runs start from the cache)';
}

function explainStartupFailure(error: unknown): void {
  if (!(error instanceof GpuStartupError)) {
    sayError(`could not start: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  if (error.failure?.event !== 'startup_failed') {
    sayError(`the GPU function could not start: ${error.failure?.reason ?? `it exited (${error.status.signal ?? error.status.code})`}`);
    return;
  }
  sayError(`the GPU function could not load MODEL=${config.model}: ${error.failure.reason}`);
  if (!config.modelIsLocal) {
    sayError(
      'without network access, a Hub model must already be in the Hugging Face cache (HF_HOME; see docs/models.md). ' +
        'Or point MODEL at a local folder in the diffusers ONNX layout, e.g. `MODEL=./test/fixtures/tiny-sd npm start` ' +
        '(the tiny test model) or `MODEL=/path/to/stable-diffusion-onnx npm start`.',
    );
  }
}

/** A child that exits on its own takes the stack down: half a stack only answers 503s. */
function watchForCrashes(gpuFunction: GpuFunctionProcess, wrangler: WranglerDev): void {
  for (const [name, child] of [['the GPU function', gpuFunction.process], ['wrangler dev', wrangler.process]] as const) {
    void child.exited.then((status) => {
      if (stopping) return;
      sayError(`${name} exited unexpectedly (${status.signal ?? `code ${status.code}`}); stopping`);
      void stop('crash', 1);
    });
  }
}

/** Stops both children (the GPU function finishes its work first), then exits. */
async function stop(reason: string, exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (reason.startsWith('SIG')) say(`${reason}: stopping the edge and the GPU function`);
  const [edgeStatus, gpuStatus] = await Promise.all([edge?.stop(), gpu?.stop()]);
  const stuck = [edgeStatus, gpuStatus].some((s) => s?.signal === 'SIGKILL');
  if (stuck) sayError('a part did not stop in time and was killed');
  else if (reason.startsWith('SIG')) say('stopped');
  process.exit(stuck && exitCode === 0 ? 1 : exitCode);
}
