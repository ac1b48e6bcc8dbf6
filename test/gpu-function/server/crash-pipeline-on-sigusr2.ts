// Preloaded (`node --import tsx --import <this file> gpu-function/server/main.ts`) by the test of the
// process's answer to a crashed pipeline worker: SIGUSR2 crashes the worker (crash-pipeline-worker.ts).
// Workers inherit --import, so this runs in the worker too, where it does nothing.
import { isMainThread } from 'node:worker_threads';
import { crashPipelineWorkers } from './crash-pipeline-worker';

if (isMainThread) process.on('SIGUSR2', () => void crashPipelineWorkers('crash on SIGUSR2'));
