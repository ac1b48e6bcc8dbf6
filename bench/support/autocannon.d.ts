// The part of autocannon's API the benches use (it ships no types): an instance that emits one
// `response` event per answer (with its latency in milliseconds, as a float) and resolves to a result.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface AutocannonRequest {
    readonly method?: string;
    readonly path?: string;
    readonly headers?: Readonly<Record<string, string>>;
  }

  export interface AutocannonOptions {
    readonly url: string;
    readonly connections?: number;
    /** Seconds. */
    readonly duration?: number;
    readonly amount?: number;
    readonly pipelining?: number;
    /** Seconds before a request counts as timed out. */
    readonly timeout?: number;
    /** Each connection sends these in turn, round and round. */
    readonly requests?: readonly AutocannonRequest[];
  }

  export interface AutocannonStat {
    readonly average: number;
    readonly mean: number;
    readonly stddev: number;
    readonly min: number;
    readonly max: number;
    readonly total: number;
    readonly p50: number;
    readonly p99: number;
  }

  export interface AutocannonResult {
    readonly requests: AutocannonStat & { readonly sent: number };
    readonly latency: AutocannonStat;
    readonly throughput: AutocannonStat;
    readonly errors: number;
    readonly timeouts: number;
    readonly non2xx: number;
    /** Seconds. */
    readonly duration: number;
  }

  export interface AutocannonInstance extends EventEmitter, PromiseLike<AutocannonResult> {
    stop(): void;
  }

  export default function autocannon(options: AutocannonOptions): AutocannonInstance;
}
