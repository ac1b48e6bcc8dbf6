// The `Server-Timing` header of a picture (W3C Server Timing, https://www.w3.org/TR/server-timing/):
// `name;dur=<ms>` per stage, comma-separated. Browsers' devtools and the edge's logs read it. The
// pipeline stages are those of the request's whole batch (its images share one call of each network);
// queue and png are the request's own (its PNG is encoded after the batch, while the next one runs).
import type { StageTimings } from '../pipeline/types';
import { PIPELINE_STAGES } from './metrics';

export function serverTiming(queueMs: number, timings: StageTimings, pngMs: number): string {
  const entries = [`queue;dur=${round(queueMs)}`];
  for (const [field, stage] of PIPELINE_STAGES) entries.push(`${stage};dur=${round(timings[field])}`);
  entries.push(`png;dur=${round(pngMs)}`);
  return entries.join(', ');
}

function round(ms: number): string {
  return String(Math.round(Math.max(0, ms) * 10) / 10);
}
