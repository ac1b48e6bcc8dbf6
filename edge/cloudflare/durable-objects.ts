// The Worker's Durable Objects and the clients the app calls them through.
// GenerationCoordinator: all requests for one content key meet in one object (named by the key),
// which coalesces them in memory; it also outlives the request that started a generation, so a client
// that gives up does not waste it. RateLimitBucket: one object per client id, so each bucket has a
// single writer worldwide; it persists its state (tokens and generations in flight), so an eviction
// does not refill the bucket, and deletes it once it is the same as none (an alarm), so storage does
// not grow with every address ever seen.
import { DurableObject } from 'cloudflare:workers';
import { ProblemError, type ProblemInit } from '../../contract';
import {
  CoalescingGenerator,
  type GeneratedImage,
  type GenerationJob,
  type ImageGenerator,
  type WatchOptions,
} from '../generation/image-generator';
import { log } from '../log';
import { gpuUnavailable } from '../problems';
import type { RateLimiter } from '../rate-limit/charge-generation';
import {
  type AdmissionDecision,
  type AdmissionRequest,
  admit,
  type ClientState,
  forgettableAtMs,
  release,
} from '../rate-limit/admission';
import { R2ImageStore } from './storage';

/** RPC result: class instances do not survive RPC, so a problem travels as plain data. */
export type GenerationOutcome =
  | { readonly ok: true; readonly image: GeneratedImage }
  | { readonly ok: false; readonly problem: ProblemInit };

export class GenerationCoordinator extends DurableObject<Env> {
  readonly #generator = new CoalescingGenerator(new R2ImageStore(this.env.IMAGES));

  generate(job: GenerationJob): Promise<GenerationOutcome> {
    return outcomeOf(this.#generator.generate(job));
  }

  /** The outcome of the generation in flight for this object's key; null at once when none is. */
  async join(key: string): Promise<GenerationOutcome | null> {
    const joined = this.#generator.join(key).then((image) => image ?? null);
    const outcome = await outcomeOf(joined);
    if (outcome.ok && outcome.image === null) return null;
    return outcome as GenerationOutcome;
  }

  /** GET /v1/progress's event stream for this object's key (a byte stream crosses RPC; cancelling it leaves). */
  watch(key: string, options: WatchOptions): Promise<ReadableStream<Uint8Array>> {
    return this.#generator.watch(key, options);
  }
}

async function outcomeOf<T>(running: Promise<T>): Promise<{ ok: true; image: T } | { ok: false; problem: ProblemInit }> {
  try {
    return { ok: true, image: await running };
  } catch (error) {
    if (error instanceof ProblemError) return { ok: false, problem: error.problem };
    throw error;
  }
}

export class DurableImageGenerator implements ImageGenerator {
  readonly #namespace: DurableObjectNamespace<GenerationCoordinator>;

  constructor(namespace: DurableObjectNamespace<GenerationCoordinator>) {
    this.#namespace = namespace;
  }

  async generate(job: GenerationJob): Promise<GeneratedImage> {
    const outcome = await this.#call<GenerationOutcome>(job.key, async (coordinator) => await coordinator.generate(job));
    return imageOf(outcome);
  }

  async join(key: string): Promise<GeneratedImage | undefined> {
    const outcome = await this.#call<GenerationOutcome | null>(key, async (coordinator) => await coordinator.join(key));
    return outcome === null ? undefined : imageOf(outcome);
  }

  async watch(key: string, options: WatchOptions): Promise<ReadableStream<Uint8Array>> {
    return this.#call(key, async (coordinator) => await coordinator.watch(key, options));
  }

  async #call<T>(key: string, rpc: (coordinator: DurableObjectStub<GenerationCoordinator>) => Promise<T>): Promise<T> {
    try {
      return await rpc(this.#namespace.getByName(key));
    } catch (error) {
      // The object itself failed (reset, overloaded, storage error): nothing the client did.
      log('error', 'coordinator_failed', { key, error: String(error) });
      throw gpuUnavailable('The generation could not be completed.', 10, error);
    }
  }
}

function imageOf(outcome: GenerationOutcome): GeneratedImage {
  if (!outcome.ok) throw new ProblemError(outcome.problem);
  return outcome.image;
}

const CLIENT_STATE_KEY = 'client';

export class RateLimitBucket extends DurableObject {
  admit(request: AdmissionRequest): AdmissionDecision {
    // The synchronous KV API of SQLite-backed objects: read, compute and write with no await in
    // between, so concurrent calls cannot interleave.
    const { state, decision } = admit(this.#read(), request, Date.now());
    if (decision.allowed) this.#keep(state);
    return decision;
  }

  release(leaseId: string): void {
    const previous = this.#read();
    if (previous !== undefined) this.#keep(release(previous, leaseId, Date.now()));
  }

  /** Runs once the state may be the same as none: then it is deleted, else checked again later. */
  override async alarm(): Promise<void> {
    const state = this.#read();
    if (state !== undefined) this.#keep(state);
    else await this.ctx.storage.deleteAll();
  }

  #read(): ClientState | undefined {
    return this.ctx.storage.kv.get<ClientState>(CLIENT_STATE_KEY);
  }

  /**
   * Stores the state, or deletes everything once it is the same as no state, so storage holds only
   * clients with a bucket still refilling or a generation in flight, not every address ever seen. An
   * alarm at the moment it will be (forgettableAtMs) deletes it then if nothing changed meanwhile.
   */
  #keep(state: ClientState): void {
    const nowMs = Date.now();
    const forgettableAt = forgettableAtMs(state, nowMs);
    if (forgettableAt <= nowMs) {
      void this.ctx.storage.deleteAlarm();
      void this.ctx.storage.deleteAll();
      return;
    }
    this.ctx.storage.kv.put(CLIENT_STATE_KEY, state);
    void this.ctx.storage.setAlarm(forgettableAt);
  }
}

export class DurableRateLimiter implements RateLimiter {
  readonly #namespace: DurableObjectNamespace<RateLimitBucket>;

  constructor(namespace: DurableObjectNamespace<RateLimitBucket>) {
    this.#namespace = namespace;
  }

  async admit(clientId: string, request: AdmissionRequest): Promise<AdmissionDecision> {
    return this.#namespace.getByName(clientId).admit(request);
  }

  async release(clientId: string, leaseId: string): Promise<void> {
    await this.#namespace.getByName(clientId).release(leaseId);
  }
}
