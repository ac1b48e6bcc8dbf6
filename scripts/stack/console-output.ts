// What `npm start` prints: its own lines as `dreamurl: …`, the GPU function's JSON log turned into
// short readable lines under `[gpu]`, and wrangler's output as it is under `[edge]`. The GPU
// function's log never holds tokens or prompts (gpu-function/server/logger.ts), so nothing secret
// passes through here.
import type { GpuLogLine } from './gpu-function-process';
import { READINESS_PROBE_PATH } from './wrangler-dev';

export function say(text: string): void {
  console.log(`dreamurl: ${text}`);
}

export function sayError(text: string): void {
  console.error(`dreamurl: ${text}`);
}

export function printGpuLog(line: GpuLogLine | { readonly raw: string }): void {
  const text = 'event' in line ? formatGpuLog(line) : line.raw;
  if (text.trim() === '') return;
  const out = 'event' in line && line.level === 'error' ? console.error : console.log;
  out(`[gpu] ${text}`);
}

export function printEdgeLine(text: string): void {
  // The readiness probe's own request line would read like an error to a newcomer.
  if (text.trim() === '' || text.includes(READINESS_PROBE_PATH)) return;
  console.log(`[edge] ${text}`);
}

/** One GPU function log line (docs/gpu-function.md, "Logs") in words. */
export function formatGpuLog(line: GpuLogLine): string {
  const f = line as Readonly<Record<string, unknown>>;
  switch (line.event) {
    case 'listening':
      return `listening on ${String(f.url)}`;
    case 'model':
    case 'model_download':
    case 'onnxruntime':
      return String(f.message); // already "model: …" / "onnxruntime: …"
    case 'model_loaded':
      return `model: ${String(f.model)} loaded on ${String(f.provider)} in ${String(f.ms)} ms`;
    case 'warmed_up': {
      // warm-up.ts: first the largest picture the limits admit, then each batch size at the default size.
      const what = f.kind === 'largest' ? 'the largest picture' : 'the default size';
      const batch = typeof f.batch === 'number' ? `, batch of ${f.batch}` : '';
      return `warmed up ${what} (${String(f.width)}×${String(f.height)}${batch}, ${String(f.steps)} steps, ${String(f.ms)} ms)`;
    }
    case 'memory_checked':
      return (
        `memory: peak ${String(f.peak_mb)} MB of ${String(f.limit_mb)} MB (${String(f.source)}), ` +
        `${typeof f.share === 'number' ? Math.round(f.share * 100) : '?'} %`
      );
    case 'ready':
      return `ready: ${String(f.model)} on ${String(f.provider)}, ${String(f.startup_ms)} ms after start`;
    case 'request':
      return formatRequest(f);
    case 'shutdown':
      return `stopping (${String(f.signal)}): finishing queued and running work`;
    case 'draining':
      return `draining: ${String(f.queue)}`;
    case 'stopped':
      return f.drained === true ? 'stopped' : `stopped (${String(f.abandoned)} requests abandoned)`;
    default: {
      const { time: _time, level: _level, event, ...rest } = f;
      if (typeof rest.error === 'string') return `${String(event)}: ${rest.error}`;
      return Object.keys(rest).length === 0 ? String(event) : `${String(event)} ${JSON.stringify(rest)}`;
    }
  }
}

function formatRequest(f: Readonly<Record<string, unknown>>): string {
  const head = `${String(f.method)} ${String(f.path)} ${String(f.status)} (${String(f.ms)} ms)`;
  if (typeof f.width !== 'number') return head;
  const batch = typeof f.batch_size === 'number' && f.batch_size > 1 ? `, batch of ${f.batch_size}` : '';
  return `${head} ${f.width}×${String(f.height)}, ${String(f.steps)} steps, seed ${String(f.seed)}${batch}`;
}
