// Control of the GPU stub (test/support/gpu-stub-server.ts) over its HTTP side door, with fetch only,
// so the same code runs in workerd and on Node. Scenarios and calls are per prompt.
import type { GpuStubCall, Scenario } from '../support/gpu-stub-server';

export interface GpuStubControl {
  setScenario(scenario: Scenario): Promise<void>;
  calls(prompt: string): Promise<GpuStubCall[]>;
  /** Lets the prompt's `gated` calls answer (and any made later). */
  openGate(prompt: string): Promise<void>;
}

export function gpuStubControl(stubUrl: string): GpuStubControl {
  return {
    async setScenario(scenario) {
      const res = await fetch(`${stubUrl}/__scenarios`, { method: 'PUT', body: JSON.stringify(scenario) });
      if (res.status !== 204) throw new Error(`stub refused scenario: ${res.status} ${await res.text()}`);
    },
    async calls(prompt) {
      const res = await fetch(`${stubUrl}/__calls?prompt=${encodeURIComponent(prompt)}`);
      return ((await res.json()) as { calls: GpuStubCall[] }).calls;
    },
    async openGate(prompt) {
      const res = await fetch(`${stubUrl}/__gates?prompt=${encodeURIComponent(prompt)}`, { method: 'POST' });
      if (res.status !== 204) throw new Error(`stub refused to open the gate: ${res.status}`);
    },
  };
}

/** A prompt no other test uses (stub state, caches and stores are shared within a run). */
export function uniquePrompt(label: string): string {
  return `${label} ${crypto.randomUUID()}`;
}
