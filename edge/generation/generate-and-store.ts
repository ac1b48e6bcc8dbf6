// One generation, start to finish: reuse what is already stored, else call the GPU function
// (which validates the picture) and store it before anyone is answered.
import { generateOnGpu } from '../gpu/gpu-client';
import { log } from '../log';
import type { ImageStore } from '../storage/image-store';
import type { GeneratedImage, GenerationJob } from './image-generator';

export async function generateAndStore(job: GenerationJob, store: ImageStore): Promise<GeneratedImage> {
  const stored = await store.get(job.key);
  if (stored !== null) {
    return { png: new Uint8Array(await new Response(stored.body).arrayBuffer()), alreadyStored: true };
  }
  const started = Date.now();
  try {
    const image = await generateOnGpu(job.gpu, job.request);
    await store.put(job.key, image.png, job.metadata);
    log('info', 'generated', {
      key: job.key,
      ms: Date.now() - started,
      bytes: image.png.byteLength,
      gpu_timing: image.serverTiming,
    });
    return { png: image.png, alreadyStored: false };
  } catch (error) {
    log('warn', 'generation_failed', { key: job.key, ms: Date.now() - started, error: String(error) });
    throw error;
  }
}
