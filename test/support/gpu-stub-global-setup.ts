// vitest globalSetup of the edge project: one GPU stub for the whole run, its URL provided to the
// project config (cloudflareTest's inject) which hands it to the Worker as GPU_FUNCTION_URL.
import type { TestProject } from 'vitest/node';
import { startGpuStub } from './gpu-stub-server';

/** The model the stub answers as by default; the edge tests' default profile pins exactly this. */
export const GPU_STUB_TEST_MODEL = 'tiny-sd@local-0123456789abcdef';

declare module 'vitest' {
  export interface ProvidedContext {
    gpuStubUrl: string;
    gpuStubModel: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stub = await startGpuStub({ model: GPU_STUB_TEST_MODEL });
  project.provide('gpuStubUrl', stub.url);
  project.provide('gpuStubModel', GPU_STUB_TEST_MODEL);
  return () => stub.close();
}
