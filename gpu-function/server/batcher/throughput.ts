// How long work takes on this device, learnt from recent batches: for the Retry-After of a full queue,
// queue positions, and refusing up front work that cannot finish by its deadline (admission.ts).
//
// A batch's time is a sum of parts that grow with different things; the server's: the text encoder once
// a picture, the VAE decoder (and the batch's overhead) once a picture or a pixel, the UNet once an
// evaluation or a pixel and evaluation. One average "per unit" would misjudge: measured on a 2-step
// warm-up, where the VAE's share is large, it makes a 150-step request seem several times longer than it
// is, and would refuse it wrongly. So an item's cost is a list of groups, one per part, each listing
// the measures that part may grow with, and a batch may say how its time divided among the groups
// (`parts`, from the pipeline's stage times). Within a group the estimate does not know how the time
// divides among the measures (a small picture's UNet time is mostly per-call overhead, a large one's
// mostly per pixel): it takes the least the window allows, T_g × min_k (cost_k / Σ window cost_k) —
// exact for work shaped like what was measured, lower for other shapes. A batch measured only as a
// total (a warm-up recorded without its stage times) is one group of every measure, bounded alike;
// split batches, once there are any, replace such totals. So the estimate may admit what will not fit,
// and never refuses what would (admission.ts). With one measure both ways are plain seconds per unit.

/** How many recent batches the estimate draws on. */
export const THROUGHPUT_WINDOW = 16;

/**
 * An item's cost: one number, or groups of measures (the same shape for every item of a batcher), one
 * group per part of a batch's time, each listing what that part may grow with.
 */
export type Cost = number | readonly (readonly number[])[];

/** What the window says a piece of work takes, and from how many batches it says so. */
export interface WorkEstimate {
  readonly seconds: number;
  /** Batches the figure rests on: the split ones when there are any, else the totals. */
  readonly samples: number;
}

interface Sample {
  readonly cost: readonly (readonly number[])[];
  readonly ms: number;
  /** ms divided among the cost's groups (summing to ms), when the batch said how. */
  readonly parts: readonly number[] | undefined;
}

export function costGroups(cost: Cost): readonly (readonly number[])[] {
  return typeof cost === 'number' ? [[cost]] : cost;
}

export class ThroughputEstimate {
  readonly #window: Sample[] = [];
  readonly #size: number;

  constructor(size: number = THROUGHPUT_WINDOW) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError(`Expected a window of at least 1 batch, got ${size}`);
    this.#size = size;
  }

  /**
   * A batch of `cost` that took `ms` milliseconds; `parts`: how that time divided among the cost's
   * groups, in any unit (only their proportions count).
   */
  record(cost: Cost, ms: number, parts?: readonly number[]): void {
    const groups = costGroups(cost);
    const measures = groups.flat();
    if (!(ms >= 0) || !measures.some((c) => c > 0) || measures.some((c) => !(c >= 0))) return;
    this.#window.push({ cost: groups, ms, parts: scaledParts(parts, groups.length, ms) });
    if (this.#window.length > this.#size) this.#window.shift();
  }

  /** What work of `cost` should take at the window's rates (the least they allow); undefined before the first batch. */
  estimate(cost: Cost): WorkEstimate | undefined {
    const groups = costGroups(cost);
    const split = this.#window.filter((sample) => sample.parts !== undefined);
    if (split.length > 0) {
      let ms = 0;
      groups.forEach((group, g) => {
        const spent = sum(split, (sample) => sample.parts![g] ?? 0);
        ms += leastTime(spent, group, (k) => sum(split, (sample) => sample.cost[g]?.[k] ?? 0));
      });
      return { seconds: ms / 1000, samples: split.length };
    }
    if (this.#window.length === 0) return undefined;
    // Totals only: one group of every measure.
    const flat = groups.flat();
    const measured = (k: number): number => sum(this.#window, (sample) => sample.cost.flat()[k] ?? 0);
    return {
      seconds:
        leastTime(
          sum(this.#window, (sample) => sample.ms),
          flat,
          measured,
        ) / 1000,
      samples: this.#window.length,
    };
  }

  /** Seconds per unit of a one-number cost; undefined before the first batch. */
  get secondsPerUnit(): number | undefined {
    return this.estimate(1)?.seconds;
  }
}

/**
 * The least time work of measures `wanted` takes when `spentMs` bought `measured(k)` of each measure k
 * and nothing says how it divided among them. A measure nothing was measured on counts as free: that
 * errs towards admitting.
 */
function leastTime(spentMs: number, wanted: readonly number[], measured: (k: number) => number): number {
  let least = Number.POSITIVE_INFINITY;
  wanted.forEach((c, k) => {
    const of = measured(k);
    if (of > 0) least = Math.min(least, (spentMs * c) / of);
  });
  return least === Number.POSITIVE_INFINITY ? 0 : least;
}

/** `parts` scaled to sum to `ms`; undefined when there are none that can be (wrong count, negative, all 0). */
function scaledParts(parts: readonly number[] | undefined, groups: number, ms: number): readonly number[] | undefined {
  if (parts === undefined || parts.length !== groups || parts.some((p) => !(p >= 0) || !Number.isFinite(p)))
    return undefined;
  const total = parts.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return undefined;
  return parts.map((p) => (p * ms) / total);
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += of(item);
  return total;
}
