// Builds the job for a miss from the resolved request and the configuration.
import type { GpuSettings } from '../config/config';
import { expectedModelHeader } from '../config/model-profiles';
import type { ImageRequest } from '../params/image-request';
import { imageMetadata } from '../storage/image-metadata';
import type { GenerationJob } from './image-generator';

export function generationJob(key: string, request: ImageRequest, gpu: GpuSettings): GenerationJob {
  const url = request.model.gpu_function_url ?? gpu.url;
  if (url === undefined) throw new Error(`no GPU function URL for model ${request.model.name}`); // parseConfig rules this out
  const { model, ...generation } = request;
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
