// Start-up, after the HTTP server listens: resolve MODEL (Hub download into the HF cache, or a local
// folder), open the networks on the execution provider in the pipeline's worker thread
// (pipeline-thread/), load the tokenizer here too for /v1/tokenize, decide the defaults and limits
// (environment, else the folder's dreamurl.json, else the model family's — family-profile.ts — else
// built-in: the cost limits' built-in values are the execution provider's, so they are decided once the
// pipeline says where it runs), then warm up (warm-up.ts: the largest admitted picture at its largest
// batch, then every batch size at the default size, WARMUP_STEPS steps each, through the worker like
// every batch), so the first real request does not pay for onnxruntime's first-run allocations (and, on
// CUDA, cuDNN's convolution algorithm search for that shape) and a machine too small for the limits
// fails here; then compare the peak memory with what the process may use (memory-check.ts). Only then
// does /ping say 200.
import type { GpuFunctionConfig } from '../config';
import { budgetsOf, type ModelSettings, settingsForModel } from '../generation-settings';
import { modelFamilyOf, profileForFamily } from '../model/family-profile';
import { readModelProfile } from '../model/model-profile';
import { progressPrinter } from '../model/download-progress';
import { resolveModel } from '../model/resolve-model';
import { defaultSchedulerName } from '../pipeline/schedulers';
import { ClipTokenizer } from '../pipeline/tokenizer/clip-tokenizer';
import { generationBatcher } from './generation-batcher';
import { GenerationParams } from './generation-params';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';
import type { PipelineCrashedError } from './pipeline-thread/errors';
import { PipelineThread } from './pipeline-thread/pipeline-thread';
import type { ServingModel } from './service-state';
import { judgeMemory, memoryFailure, memoryLimit, peakResidentBytes } from './memory-check';
import { type WarmupRun, warmupFailure, warmupPlan } from './warm-up';

export interface LoadedModel extends ServingModel {
  /** Where the UNet runs. */
  readonly provider: 'cuda' | 'cpu';
  /** Settles when the pipeline's worker thread stops on its own after loading (it never comes back). */
  readonly crashed: Promise<PipelineCrashedError>;
  release(): Promise<void>;
}

export interface LoadModelOptions {
  readonly log: Logger;
  readonly metrics: ServiceMetrics;
  /** Called with the model before the warm-up starts. */
  readonly onWarming: (model: LoadedModel) => void;
}

export async function loadModel(config: GpuFunctionConfig, options: LoadModelOptions): Promise<LoadedModel> {
  const { log, metrics } = options;
  const started = performance.now();
  const resolved = await resolveModel(config.model, {
    cacheDir: config.hub.cacheDir,
    token: config.hub.token,
    offline: config.hub.offline,
    hubUrl: config.hub.hubUrl,
    onProgress: progressPrinter((message) => log('info', 'model_download', { message })),
    log: (message) => log('info', 'model', { message }),
  });
  // The model's own settings first: an inconsistent dreamurl.json fails before seconds of loading
  // (the cost limits built in for the provider are added, and checked, once the provider is known).
  // SDXL and SDXL-Turbo bring their own defaults and limits, beneath the folder's and the environment's.
  const family = modelFamilyOf(resolved);
  const profile = profileForFamily(family, await readModelProfile(resolved.dir));
  settingsForModel(config, profile, config.provider === 'auto' ? undefined : config.provider);
  const starting = PipelineThread.start(resolved, {
    provider: config.provider,
    intraOpThreads: config.intraOpThreads,
    log: (message) => log('info', 'onnxruntime', { message }),
  });
  // Awaited below, once the tokenizer is read: a failure before then must not count as unhandled.
  starting.catch(() => undefined);
  const tokenizer = await ClipTokenizer.fromFolder(resolved.tokenizerDir).catch(async (error: unknown) => {
    await starting.then((pipeline) => pipeline.release(), () => undefined);
    throw error;
  });
  const pipeline = await starting;
  log('info', 'model_loaded', {
    model: resolved.model,
    family,
    provider: pipeline.provider,
    ms: Math.round(performance.now() - started),
  });

  let params: GenerationParams;
  let settings: ModelSettings;
  let maxBatchPixels: number;
  try {
    settings = settingsForModel(config, profile, pipeline.provider);
    const { defaults, limits } = settings;
    params = new GenerationParams(
      { ...defaults, scheduler: defaults.scheduler ?? defaultSchedulerName(resolved.schedulerConfig) },
      limits,
      resolved.schedulerConfig,
    );
    maxBatchPixels = budgetsOf(settings).maxBatchPixels;
  } catch (error) {
    await pipeline.release().catch(() => undefined);
    throw error;
  }
  const batcher = generationBatcher(pipeline, { ...config.batching, maxBatchPixels, log, metrics });
  const model: LoadedModel = {
    identity: { id: resolved.id, revision: resolved.revision, model: resolved.model },
    params,
    tokenizer,
    batcher,
    provider: pipeline.provider,
    crashed: pipeline.crashed,
    release: () => pipeline.release(),
  };
  options.onWarming(model);

  try {
    await warmUp(
      config,
      { params, pipeline, batcher, log },
      warmupPlan(settings.limits, params.defaults, {
        maxBatchSize: config.batching.maxBatchSize,
        maxBatchPixels,
      }),
    );
    checkMemory(config.memoryLimitMb, log);
  } catch (error) {
    await pipeline.release().catch(() => undefined);
    throw error;
  }
  return model;
}

interface WarmupParts {
  readonly params: GenerationParams;
  readonly pipeline: PipelineThread;
  readonly batcher: Pick<LoadedModel['batcher'], 'recordThroughput'>;
  readonly log: Logger;
}

/** Runs the plan through the worker like every batch; the first failure stops start-up (warm-up.ts). */
async function warmUp(config: GpuFunctionConfig, parts: WarmupParts, plan: readonly WarmupRun[]): Promise<void> {
  if (config.warmupSteps === 0) return;
  const { params, pipeline, batcher, log } = parts;
  for (const run of plan) {
    const { width, height, guidance } = run;
    const batch = Array.from({ length: run.batch }, (_, seed) =>
      params.resolve({ prompt: 'warm-up', seed, steps: config.warmupSteps, width, height, guidance }),
    );
    const started = performance.now();
    await pipeline.generate(batch).catch((error: unknown) => {
      throw warmupFailure(run, config.warmupSteps, error);
    });
    const ms = performance.now() - started;
    // An estimate of throughput for Retry-After, until real batches replace it.
    batcher.recordThroughput(batch, ms);
    log('info', 'warmed_up', {
      width,
      height,
      batch: run.batch,
      steps: config.warmupSteps,
      kind: run.kind,
      ms: Math.round(ms),
    });
  }
}

/** Peak resident memory against what the process may use (memory-check.ts): logged, and fatal when too close. */
function checkMemory(limitMb: number | undefined, log: Logger): void {
  const verdict = judgeMemory(peakResidentBytes(), memoryLimit(limitMb));
  const fields = {
    peak_mb: verdict.peakMb,
    limit_mb: verdict.limitMb,
    source: verdict.source,
    share: Math.round(verdict.share * 1000) / 1000,
  };
  if (verdict.level === 'fail') throw memoryFailure(verdict);
  log(verdict.level === 'warn' ? 'warn' : 'info', 'memory_checked', fields);
}
