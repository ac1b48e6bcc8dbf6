// What `npm start` prints for the GPU function's start-up log lines: the JSON events of
// gpu-function/server/load-model.ts as short sentences (scripts/stack/console-output.ts).
import { describe, expect, it } from 'vitest';
import type { GpuLogLine } from '../../scripts/stack/gpu-function-process';
import { formatGpuLog } from '../../scripts/stack/console-output';

const line = (fields: Record<string, unknown>): GpuLogLine =>
  ({ time: '2026-12-05T09:00:00.000Z', level: 'info', ...fields }) as unknown as GpuLogLine;

describe('formatGpuLog', () => {
  it('says which warm-up run finished, with its batch size', () => {
    expect(
      formatGpuLog(
        line({ event: 'warmed_up', width: 512, height: 512, batch: 4, steps: 2, kind: 'largest', ms: 5321 }),
      ),
    ).toBe('warmed up the largest picture (512×512, batch of 4, 2 steps, 5321 ms)');
    expect(
      formatGpuLog(line({ event: 'warmed_up', width: 64, height: 64, batch: 1, steps: 2, kind: 'default', ms: 40 })),
    ).toBe('warmed up the default size (64×64, batch of 1, 2 steps, 40 ms)');
  });

  it('puts the memory check in words rather than JSON', () => {
    const text = formatGpuLog(
      line({ event: 'memory_checked', peak_mb: 3712, limit_mb: 24051, source: 'os.totalmem()', share: 0.154 }),
    );
    expect(text).toBe('memory: peak 3712 MB of 24051 MB (os.totalmem()), 15 %');
  });

  it('keeps an event it does not know as its name and fields', () => {
    expect(formatGpuLog(line({ event: 'something_new', a: 1 }))).toBe('something_new {"a":1}');
  });
});
