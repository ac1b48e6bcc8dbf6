// Turns a miss into a stored picture. Implementations must (1) make at most one GPU call per key at a
// time, however many requests wait for it, (2) store the PNG in the image store before answering, so
// a later request never regenerates (when the store refuses the write, answer with the picture anyway
// and say `stored: false`), and (3) store nothing when the GPU answer is refused.
// Node: CoalescingGenerator in the process. Workers: the same, inside a Durable Object per content key
// (edge/cloudflare/durable-objects.ts), so every data centre's requests for a key meet there.
import type { ResolvedGeneration } from '../../contract';
import { expectedModelHeader, type GpuSettings } from '../config';
import { log } from '../log';
import type { ImageRequest } from '../request/image-query';
import { type ImageMetadata, type ImageStore, imageMetadata, readStore } from '../storage';
import { type GpuTarget, generateOnGpu } from './gpu-client';

/** Everything needed to make and store one picture; plain data (it crosses Durable Object RPC). */
export interface GenerationJob {
  readonly key: string;
  /** The body of `POST /v1/generate`, every field resolved. */
  readonly request: ResolvedGeneration;
  readonly gpu: GpuTarget;
  readonly metadata: ImageMetadata;
}

export interface GeneratedImage {
  readonly png: Uint8Array;
  /** True when this call found the picture already stored (another request made it). */
  readonly alreadyStored: boolean;
  /** False only when the store refused the write: the picture is served anyway, but not kept. */
  readonly stored: boolean;
}

export interface ImageGenerator {
  /** Resolves with the stored picture, or rejects with a ProblemError (nothing stored then). */
  generate(job: GenerationJob): Promise<GeneratedImage>;
  /**
   * The outcome of the generation in flight for `key`, as `generate` would give a request joining it
   * (`alreadyStored`); undefined at once when none is in flight. Never starts one: a request that
   * joins is not charged to its client (edge/routes/images.ts).
   */
  join(key: string): Promise<GeneratedImage | undefined>;
}

/** The job for a miss, from the resolved request and the configuration. */
export function generationJob(key: string, request: ImageRequest, gpu: GpuSettings): GenerationJob {
  const { model, ...generation } = request;
  const url = model.gpu_function_url ?? gpu.url;
  if (url === undefined) throw new Error(`no GPU function URL for model ${model.name}`); // parseConfig rules this out
  return {
    key,
    request: generation,
    gpu: {
      url,
      token: gpu.token,
      expectedModel: expectedModelHeader(model),
      timeoutMs: gpu.timeoutMs,
      maxRetries: gpu.maxRetries,
      retryMaxWaitMs: gpu.retryMaxWaitMs,
    },
    metadata: imageMetadata(request),
  };
}

/**
 * One generation, start to finish: reuse what is already stored, else call the GPU function (which
 * validates the picture) and store it before anyone is answered. A store that cannot be read is a 503
 * (nothing generated; see readStore); a store that refuses the write still gets the client its
 * picture — it was paid for — marked as not stored and logged, so the operator sees it and the next
 * miss generates again.
 */
export async function generateAndStore(job: GenerationJob, store: ImageStore): Promise<GeneratedImage> {
  const stored = await readStore('get', job.key, () => store.get(job.key));
  if (stored !== null) {
    return { png: new Uint8Array(await new Response(stored.body).arrayBuffer()), alreadyStored: true, stored: true };
  }
  const started = Date.now();
  let image: Awaited<ReturnType<typeof generateOnGpu>>;
  try {
    image = await generateOnGpu(job.gpu, job.request);
  } catch (error) {
    log('warn', 'generation_failed', { key: job.key, ms: Date.now() - started, error: String(error) });
    throw error;
  }
  const fields = { key: job.key, ms: Date.now() - started, bytes: image.png.byteLength, gpu_timing: image.serverTiming };
  try {
    await store.put(job.key, image.png, job.metadata);
  } catch (error) {
    log('error', 'store_put_failed', { ...fields, error: String(error) });
    return { png: image.png, alreadyStored: false, stored: false };
  }
  log('info', 'generated', fields);
  return { png: image.png, alreadyStored: false, stored: true };
}

/**
 * ImageGenerator for one process: concurrent calls for one key share a single generateAndStore. The
 * entry is dropped when it settles, so a failure is not remembered (the next call retries) and a
 * success is found in the store by the next call. Callers that joined learn it (alreadyStored), so
 * their answers say `detail=coalesced`.
 */
export class CoalescingGenerator implements ImageGenerator {
  readonly #store: ImageStore;
  readonly #inFlight = new Map<string, Promise<GeneratedImage>>();

  constructor(store: ImageStore) {
    this.#store = store;
  }

  generate(job: GenerationJob): Promise<GeneratedImage> {
    const joined = this.#joined(job.key);
    if (joined !== undefined) return joined;
    const started = generateAndStore(job, this.#store).finally(() => this.#inFlight.delete(job.key));
    this.#inFlight.set(job.key, started);
    return started;
  }

  async join(key: string): Promise<GeneratedImage | undefined> {
    return this.#joined(key);
  }

  #joined(key: string): Promise<GeneratedImage> | undefined {
    return this.#inFlight.get(key)?.then((image) => ({ ...image, alreadyStored: true }));
  }
}
