// Small statistics and formatting helpers shared by the benches: percentiles over raw samples (never
// a pre-binned histogram, so sub-millisecond latencies keep their resolution), medians over rounds,
// and the one-line description of the machine every table is printed with.
import { cpus, totalmem } from 'node:os';
import { pathToFileURL } from 'node:url';

/** The p-th percentile (0–100) of samples, nearest-rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

/** "2 × AMD EPYC …, 24 GiB, Node v20.20.2" */
export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'CPU';
  return `${cpus().length} × ${cpu}, ${fixed(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`;
}

/** A bench's contribution to `npm run bench`: a heading and markdown lines. */
export interface BenchSection {
  readonly title: string;
  readonly lines: readonly string[];
}

export function printSection(section: BenchSection): void {
  console.log(`\n## ${section.title}\n`);
  for (const line of section.lines) console.log(line);
}

/** True when the module at `moduleUrl` is the script node was started with (the bench run alone). */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && moduleUrl === pathToFileURL(entry).href;
}
