// Where the service is in its life, which every route consults: `loading` (resolving and opening the
// model; /ping 204), `warming` (the start-up generation; /ping 204), `ready` (/ping 200), `draining`
// (SIGTERM received: no new work, /ping 503), `failed` (loading threw; the process exits).
import type { ClipTokenizer } from '../pipeline/tokenizer/clip-tokenizer';
import type { GenerationBatcher } from './generation-batcher';
import type { GenerationParams, ModelIdentity } from './generation-params';

export type Phase = 'loading' | 'warming' | 'ready' | 'draining' | 'failed';

/** What the routes need once the model is up. */
export interface ServingModel {
  readonly identity: ModelIdentity;
  readonly params: GenerationParams;
  readonly tokenizer: ClipTokenizer;
  readonly batcher: GenerationBatcher;
}

export class ServiceState {
  #phase: Phase = 'loading';
  #model: ServingModel | undefined;

  get phase(): Phase {
    return this.#phase;
  }

  /** The model, from the warm-up on (undefined while it loads, or when loading failed). */
  get model(): ServingModel | undefined {
    return this.#model;
  }

  warming(model: ServingModel): void {
    if (this.#phase === 'loading') this.#phase = 'warming';
    this.#model = model;
  }

  ready(): void {
    if (this.#phase === 'warming') this.#phase = 'ready';
  }

  draining(): void {
    if (this.#phase !== 'failed') this.#phase = 'draining';
  }

  failed(): void {
    this.#phase = 'failed';
  }
}
