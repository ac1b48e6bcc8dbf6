// The GPU runbook in one command: end-to-end latency and throughput of the real service on a GPU, and
// where each picture's time goes, at 512², for a model of your choice. Nothing here has a GPU, so this is
// what to run on one (BENCHMARKS.md, "Runbook: measuring on a GPU", says how to set the machine up):
//
//   npm run bench:gpu -- --model onnxruntime/sd-turbo --steps 1 --guidance 0
//   npm run bench:gpu -- --model CompVis/stable-diffusion-v1-4@onnx --steps 50
//
// 1. Brings the model into the Hugging Face cache (HF_HOME, HF_TOKEN apply), once.
// 2. Per-stage times of single pictures in-process (bench/generation-stages.ts): UNet per step, VAE,
//    and the share of each picture spent outside onnxruntime, against issue #12's 2 %.
// 3. Throughput and p50 latency over HTTP at 1, 4 and 8 concurrent clients (bench/gpu-function-throughput.ts):
//    the default batching, a 100 ms window, and unbatched, each a service process of its own.
// 4. The CPU-side before/after tables (bench/cpu-overhead.ts), which need no GPU but belong with the rest.
// Prints markdown to paste into BENCHMARKS.md. Flags: --model, --steps (50), --guidance (7.5), --size (512),
// --provider (cuda; cpu to try the runbook out on a small model), --requests (24), --rounds (2).
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { runCpuOverheadBench } from './cpu-overhead';
import { runGenerationStagesBench } from './generation-stages';
import { runGpuFunctionThroughputBench } from './gpu-function-throughput';
import { machineLine, printSection } from './support/stats';
import { hubSettingsFromEnv } from '../gpu-function/model/hub-settings';
import { resolveModel } from '../gpu-function/model/resolve-model';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'CompVis/stable-diffusion-v1-4@onnx' },
    steps: { type: 'string', default: '50' },
    guidance: { type: 'string', default: '7.5' },
    size: { type: 'string', default: '512' },
    provider: { type: 'string', default: 'cuda' },
    requests: { type: 'string', default: '24' },
    rounds: { type: 'string', default: '2' },
  },
});
const provider = values.provider;
if (provider !== 'cuda' && provider !== 'cpu') throw new Error(`--provider must be cuda or cpu, got ${provider}`);
const [steps, guidance, size] = [Number(values.steps), Number(values.guidance), Number(values.size)];

/** The GPU's name and memory as nvidia-smi reports them, or why there is none. */
function gpuLine(): string {
  try {
    const csv = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8' });
    return csv.trim().split('\n').join('; ');
  } catch {
    return 'no GPU found (nvidia-smi did not answer)';
  }
}

console.log(`# dreamurl on a GPU\n\n${new Date().toISOString().slice(0, 10)}; ${machineLine()}; GPU: ${gpuLine()}.`);
console.log(`Model ${values.model}, ${size}×${size}, ${steps} steps, guidance ${guidance}, provider ${provider}.`);

// 1. Download once, so the service processes below start from the cache (they run with HF_HUB_OFFLINE=1).
const hub = hubSettingsFromEnv(process.env);
const model = await resolveModel(values.model, { ...hub, log: (line) => console.error(line) });
console.error(`model ready: ${model.model} in ${model.dir}`);

// 2–4.
printSection(await runGenerationStagesBench({ model: values.model, provider, sizes: [size], steps, guidance, runs: 10 }));
printSection(
  await runGpuFunctionThroughputBench({
    model: values.model,
    provider,
    size,
    steps,
    guidance,
    requests: Number(values.requests),
    rounds: Number(values.rounds),
  }),
);
printSection(await runCpuOverheadBench({ rounds: 3 }));
