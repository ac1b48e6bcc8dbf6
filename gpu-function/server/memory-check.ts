// After the warm-up has run the dearest batch the limits admit, the process's peak resident memory is
// about what the service will ever need (onnxruntime's CPU arena keeps what that batch took, and no
// admitted batch takes more). If that peak is already close to what the machine or container allows, the
// first busy minute (another shape, the PNG encoder's buffers, a memory-pattern plan per shape) ends with
// the kernel's OOM killer: no log line, every queued request lost. Start-up is the place to say so, so
// above FAIL_ABOVE of the limit start-up fails with the settings to lower; above WARN_ABOVE it logs a
// warning and goes on. The limit is MEMORY_LIMIT_MB when set, else the container's (cgroup v2
// memory.max, or cgroup v1 memory.limit_in_bytes), else the machine's memory.
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/** Start-up fails when the peak is above this share of the limit. */
export const FAIL_ABOVE = 0.9;
/** A warning is logged when the peak is above this share (and not above FAIL_ABOVE). */
export const WARN_ABOVE = 0.75;

const MIB = 1024 * 1024;

export interface MemoryLimit {
  readonly bytes: number;
  /** Where the figure came from, for the log and the message. */
  readonly source: 'MEMORY_LIMIT_MB' | 'cgroup v2 memory.max' | 'cgroup v1 memory.limit_in_bytes' | 'os.totalmem()';
}

export interface MemoryVerdict {
  readonly level: 'ok' | 'warn' | 'fail';
  readonly peakMb: number;
  readonly limitMb: number;
  readonly source: MemoryLimit['source'];
  readonly share: number;
}

/** The memory this process may use: MEMORY_LIMIT_MB, else its cgroup's limit, else the machine's. */
export function memoryLimit(limitMb: number | undefined, read: (path: string) => string = readText): MemoryLimit {
  if (limitMb !== undefined) return { bytes: limitMb * MIB, source: 'MEMORY_LIMIT_MB' };
  const total = totalmem();
  const v2 = read('/sys/fs/cgroup/memory.max').trim();
  if (/^\d+$/.test(v2) && Number(v2) < total) return { bytes: Number(v2), source: 'cgroup v2 memory.max' };
  // cgroup v1 says "no limit" with a huge number (PAGE_COUNTER_MAX pages), larger than the machine.
  const v1 = read('/sys/fs/cgroup/memory/memory.limit_in_bytes').trim();
  if (/^\d+$/.test(v1) && Number(v1) < total) return { bytes: Number(v1), source: 'cgroup v1 memory.limit_in_bytes' };
  return { bytes: total, source: 'os.totalmem()' };
}

/** The process's peak resident set so far (threads included), in bytes. */
export function peakResidentBytes(): number {
  // maxRSS is in KiB on Linux and macOS (getrusage's ru_maxrss).
  return process.resourceUsage().maxRSS * 1024;
}

export function judgeMemory(peakBytes: number, limit: MemoryLimit): MemoryVerdict {
  const share = peakBytes / limit.bytes;
  const level = share > FAIL_ABOVE ? 'fail' : share > WARN_ABOVE ? 'warn' : 'ok';
  return {
    level,
    peakMb: Math.round(peakBytes / MIB),
    limitMb: Math.round(limit.bytes / MIB),
    source: limit.source,
    share,
  };
}

/** The start-up error for a `fail` verdict. */
export function memoryFailure(verdict: MemoryVerdict): Error {
  const percent = (share: number) => `${Math.round(share * 100)} %`;
  return new Error(
    `memory check failed: the warm-up's peak resident memory, ${verdict.peakMb} MB, is ${percent(verdict.share)} of the ` +
      `${verdict.limitMb} MB this process may use (${verdict.source}); above ${percent(FAIL_ABOVE)} the first busy minute ` +
      'risks the OOM killer. Lower MAX_PIXELS (or limits.max_pixels in dreamurl.json), MAX_BATCH_PIXELS or MAX_BATCH_SIZE, ' +
      'or give the process more memory (MEMORY_LIMIT_MB states the limit when it cannot be read)',
  );
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
