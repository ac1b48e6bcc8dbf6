// Prometheus metrics on a Registry of the service's own (never prom-client's global one, so two
// services in one process — tests, the bench — count apart). Names from the project design (docs/gpu-function.md, Metrics) plus what an
// operator needs to size a deployment: requests by route and status, abandoned requests, the batch
// running now, and how long start-up took.
import { collectDefaultMetrics, Counter, Gauge, Histogram, linearBuckets, Registry } from 'prom-client';
import type { StageTimings } from '../pipeline/types';

/** `stage` label values of sd_stage_seconds, also the Server-Timing metric names. */
export const STAGES = ['queue', 'tokenize', 'text_encoder', 'denoise', 'vae', 'png'] as const;
export type Stage = (typeof STAGES)[number];

/** A batch's stage times as StageTimings names them → stage labels (queue and png are per request). */
export const PIPELINE_STAGES: readonly (readonly [keyof StageTimings, Stage])[] = [
  ['tokenize', 'tokenize'],
  ['textEncoder', 'text_encoder'],
  ['denoise', 'denoise'],
  ['vae', 'vae'],
];

/** 1 ms … 10 min: a tokenizer call to a 150-step SDXL-sized batch on a CPU. */
const STAGE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 150, 600];

export interface MetricsSources {
  readonly maxBatchSize: number;
  /** Items waiting for a batch now. */
  readonly queueDepth: () => number;
  /** Images in the batch running now. */
  readonly running: () => number;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly generations: Counter;
  readonly batchSize: Histogram;
  readonly stageSeconds: Histogram<'stage'>;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly abandoned: Counter<'reason' | 'stage'>;
  readonly cancelled: Counter;
  readonly startupSeconds: Gauge;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.generations = new Counter({ name: 'sd_generations_total', help: 'Images generated (warm-up excluded).', registers });
    this.batchSize = new Histogram({
      name: 'sd_batch_size',
      help: 'Images per batched pipeline call.',
      buckets: linearBuckets(1, 1, sources.maxBatchSize),
      registers,
    });
    new Gauge({
      name: 'sd_queue_depth',
      help: 'Requests waiting for a batch (the running batch not counted).',
      registers,
      collect() {
        this.set(sources.queueDepth());
      },
    });
    new Gauge({
      name: 'sd_batch_running',
      help: 'Images in the batch running now (0 when the device is idle).',
      registers,
      collect() {
        this.set(sources.running());
      },
    });
    this.stageSeconds = new Histogram({
      name: 'sd_stage_seconds',
      help: 'Time per stage: queue and png once per request, the pipeline stages once per batch.',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route, method and status (499: the client left first).',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.abandoned = new Counter({
      name: 'sd_requests_abandoned_total',
      help: 'Generation requests whose client left or whose deadline passed, by where they were then.',
      labelNames: ['reason', 'stage'],
      registers,
    });
    this.cancelled = new Counter({
      name: 'sd_generations_cancelled_total',
      help: 'Images whose batch dropped them unfinished because nobody waited any more (never counted as generated).',
      registers,
    });
    this.startupSeconds = new Gauge({
      name: 'sd_startup_seconds',
      help: 'From process start to ready: model resolution, session creation and warm-up.',
      registers,
    });
    for (const stage of STAGES) this.stageSeconds.zero({ stage });
    collectDefaultMetrics({ register: this.registry });
  }

  /** A batch finished: its size (requests it started with), the images it made and the time of each pipeline stage. */
  observeBatch(size: number, images: number, timings: StageTimings): void {
    this.generations.inc(images);
    this.batchSize.observe(size);
    for (const [field, stage] of PIPELINE_STAGES) this.stageSeconds.observe({ stage }, timings[field] / 1000);
  }
}
