// waitUntil (scripts/stack/wait-until.ts) is how `npm start` waits for the GPU function. A check can
// stay unsettled forever when the process it asks dies mid-request (undici has done so); waiting must
// then end with ExitedError as soon as the process has exited, not hang or let Node exit silently.
import { expect, it } from 'vitest';
import type { ExitStatus } from '../../scripts/stack/child-process';
import { ExitedError, waitUntil } from '../../scripts/stack/wait-until';

function exitLater(ms: number, status: ExitStatus): Promise<ExitStatus> {
  return new Promise((resolve) => setTimeout(() => resolve(status), ms));
}

it('gives up with ExitedError when the process exits while a check never settles', async () => {
  let checks = 0;
  const neverSettles = (): Promise<boolean | undefined> => {
    checks++;
    return new Promise(() => undefined);
  };
  const waiting = waitUntil(neverSettles, { what: 'the GPU function', exited: exitLater(50, { code: 1, signal: null }) });
  await expect(waiting).rejects.toThrow(ExitedError);
  await expect(waiting).rejects.toThrow('the GPU function exited (code 1)');
  expect(checks).toBe(1);
});

it('returns the first result once a check holds, and retries until then', async () => {
  let checks = 0;
  const thirdTime = async (): Promise<string | undefined> => (++checks === 3 ? 'ready' : undefined);
  const result = await waitUntil(thirdTime, { what: 'x', exited: new Promise(() => undefined), intervalMs: 5 });
  expect(result).toBe('ready');
  expect(checks).toBe(3);
});
