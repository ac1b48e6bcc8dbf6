// Reads the GPU function's /metrics (Prometheus text format 0.0.4) into samples a test can query:
// `value('sd_batch_size_bucket', { le: '4' })`. A sample matches when every given label matches; a
// query that matches no sample is 0 (a counter that has not moved yet is simply absent).
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class MetricsSnapshot {
  readonly samples: readonly Sample[];

  constructor(text: string) {
    this.samples = text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map(parseSample);
  }

  /** The sum over samples of that name whose labels include `labels`. */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  }

  /** How far the matching samples moved since `before`. */
  since(before: MetricsSnapshot, name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.value(name, labels) - before.value(name, labels);
  }

  /** Observations of a histogram `name` that fell exactly into the bucket ending at `le` (and above the previous one). */
  bucketCount(name: string, le: number, previous: number, labels: Readonly<Record<string, string>> = {}): number {
    return this.value(`${name}_bucket`, { ...labels, le: String(le) }) - this.value(`${name}_bucket`, { ...labels, le: String(previous) });
  }
}

/** A baseline for counters: the metrics once no batch runs (what an earlier test started has ended). */
export async function idleMetrics(baseUrl: string): Promise<MetricsSnapshot> {
  for (;;) {
    const snapshot = await scrapeMetrics(baseUrl);
    if (snapshot.value('sd_batch_running') === 0) return snapshot;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function scrapeMetrics(baseUrl: string): Promise<MetricsSnapshot> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return new MetricsSnapshot(await response.text());
}

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g;

function parseSample(line: string): Sample {
  const match = SAMPLE.exec(line);
  if (match === null) throw new Error(`not a Prometheus sample: ${line}`);
  const labels: Record<string, string> = {};
  for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = value!;
  const text = match[3]!;
  return { name: match[1]!, labels, value: text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text) };
}
