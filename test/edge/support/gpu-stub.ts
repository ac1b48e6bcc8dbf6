// Test-side control of the GPU stub (test/support/gpu-stub-server.ts), over HTTP from inside workerd.
// Scenarios and call counts are per prompt, so give every test its own prompt (uniquePrompt).
import { env } from 'cloudflare:workers';
import type { GpuStubCall, Scenario } from '../../support/gpu-stub-server';

export async function setScenario(scenario: Scenario): Promise<void> {
  const res = await fetch(`${env.GPU_FUNCTION_URL}/__scenarios`, { method: 'PUT', body: JSON.stringify(scenario) });
  if (res.status !== 204) throw new Error(`stub refused scenario: ${res.status} ${await res.text()}`);
}

export async function gpuCalls(prompt: string): Promise<GpuStubCall[]> {
  const res = await fetch(`${env.GPU_FUNCTION_URL}/__calls?prompt=${encodeURIComponent(prompt)}`);
  const { calls } = (await res.json()) as { calls: GpuStubCall[] };
  return calls;
}

/** A prompt no other test uses (the stub and the Cache API are shared by all test files). */
export function uniquePrompt(label: string): string {
  return `${label} ${crypto.randomUUID()}`;
}
