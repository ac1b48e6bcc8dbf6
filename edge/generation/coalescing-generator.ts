// ImageGenerator for one process: concurrent calls for one key share a single generateAndStore.
// The entry is dropped when it settles, so a failure is not remembered (the next call retries) and
// a success is found in the store by the next call. Callers that joined learn it (alreadyStored),
// so their answers say `detail=coalesced`.
import type { ImageStore } from '../storage/image-store';
import { generateAndStore } from './generate-and-store';
import type { GeneratedImage, GenerationJob, ImageGenerator } from './image-generator';

export class CoalescingGenerator implements ImageGenerator {
  readonly #store: ImageStore;
  readonly #inFlight = new Map<string, Promise<GeneratedImage>>();

  constructor(store: ImageStore) {
    this.#store = store;
  }

  generate(job: GenerationJob): Promise<GeneratedImage> {
    const running = this.#inFlight.get(job.key);
    if (running !== undefined) return running.then((image) => ({ ...image, alreadyStored: true }));
    const started = generateAndStore(job, this.#store).finally(() => this.#inFlight.delete(job.key));
    this.#inFlight.set(job.key, started);
    return started;
  }
}
