// One generation, start to finish: reuse what is already stored, else call the GPU function
// (which validates the picture) and store it before anyone is answered.
// Storage failures: a store that cannot be read is a 503 (nothing generated; see store-read.ts); a
// store that refuses the write still gets the client its picture — it was paid for — marked as not
// stored and logged, so the operator sees it and the next miss generates again.
import { generateOnGpu } from '../gpu/gpu-client';
import { log } from '../log';
import type { ImageStore } from '../storage/image-store';
import { readStore } from '../storage/store-read';
import type { GeneratedImage, GenerationJob } from './image-generator';

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
