// Starts the pipeline's worker thread in whichever form this code runs in:
//
// - From the sources (tsx for `npm run start:gpu`, vitest for the tests): the entry is
//   pipeline-worker.ts beside this file. A worker does not load TypeScript by itself, and on Node 20
//   passing tsx's loader in `execArgv` (`--import tsx`, or inheriting tsx's own flags) still fails on
//   the .ts entry with ERR_UNKNOWN_FILE_EXTENSION (verified under tsx, `node --import tsx` and vitest,
//   which does not transform code in worker threads). What works everywhere: a small bootstrap that
//   registers tsx's ESM hooks in the worker (tsx/esm/api `register()`), then imports the entry.
// - From the esbuild bundle (infra/Dockerfile): this code sits in main.mjs and the entry is
//   pipeline-worker.mjs beside it, bundled as a second output file; no tsx (a devDependency) there.
//
// Either way the bootstrap first registers the `exit` handler that marks the control word STOPPED
// (exit-guard.ts), so even a worker that fails while loading its modules is seen as stopped (and the
// main thread marks it too when it sees the worker exit).
import { Worker } from 'node:worker_threads';
import { STOPPED } from './exit-guard';
import type { PipelineWorkerData } from './protocol';

/** The worker entry's file name without extension; esbuild's output name must match (infra/Dockerfile). */
export const PIPELINE_WORKER_ENTRY = 'pipeline-worker';

/** `.ts` when running from the sources, `.mjs` (or `.js`) when running from a bundle. */
function ownExtension(): string {
  const path = new URL(import.meta.url).pathname;
  return path.slice(path.lastIndexOf('.'));
}

export function pipelineWorkerUrl(): URL {
  return new URL(`./${PIPELINE_WORKER_ENTRY}${ownExtension()}`, import.meta.url);
}

export function spawnPipelineWorker(data: PipelineWorkerData): Worker {
  const entry = pipelineWorkerUrl();
  const typescript = entry.pathname.endsWith('.ts');
  // Runs as a CommonJS script, or as a module when the process has --input-type=module (workers
  // inherit it): so no `require` and no top-level await, only dynamic import().
  const bootstrap = [
    'let control;',
    `process.on('exit', () => { if (control !== undefined) { Atomics.store(control, 0, ${STOPPED}); Atomics.notify(control, 0); } });`,
    "import('node:worker_threads')",
    '  .then(({ workerData }) => { control = new Int32Array(workerData.control); })',
    typescript ? `  .then(() => import(${JSON.stringify(tsxApiUrl(entry))})).then(({ register }) => register())` : '',
    `  .then(() => import(${JSON.stringify(entry.href)}));`,
  ];
  return new Worker(bootstrap.join('\n'), { eval: true, workerData: data, name: 'pipeline' });
}

function tsxApiUrl(entry: URL): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch (error) {
    throw new Error(`the pipeline worker's entry ${entry.pathname} is TypeScript and needs tsx to load (npm install): ${String(error)}`);
  }
}
