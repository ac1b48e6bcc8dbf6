// Whether work can still finish by its caller's deadline, decided before it joins the queue: work that
// cannot is refused at once instead of holding the device until the deadline abandons it. The rule:
//   - its own estimated time alone exceeds the deadline → it never fits here (`too_long`: the caller
//     must ask for less, e.g. fewer steps or pixels);
//   - its own time plus the backlog ahead (the running batch's remainder and everything queued) exceeds
//     it → not now (`backlog`, with the seconds until that backlog clears, for Retry-After);
//   - otherwise, or while the estimate rests on fewer than MIN_SAMPLES_TO_REFUSE batches, admitted.
// Both refusals wait for the estimate to exceed the deadline by ESTIMATE_TOLERANCE: a wrong refusal
// loses a picture that would have come, a wrong admission costs at most the deadline's worth of device
// time (abandoned work stops within a denoising step), so doubt goes to admitting.
import type { WorkEstimate } from './throughput';

/** Batches the estimate must rest on before it refuses anything (the first may include one-off set-up). */
export const MIN_SAMPLES_TO_REFUSE = 2;
/** How far (as a fraction of the deadline) the estimate must exceed the deadline to refuse. */
export const ESTIMATE_TOLERANCE = 0.1;

export type Admission =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      readonly reason: 'too_long';
      /** The work's own estimated time. */
      readonly estimatedSeconds: number;
    }
  | {
      readonly admitted: false;
      readonly reason: 'backlog';
      readonly estimatedSeconds: number;
      /** Estimated seconds until the work now running and queued is done. */
      readonly backlogSeconds: number;
    };

const ADMITTED: Admission = { admitted: true };

/**
 * The verdict for work of estimated time `own` behind `backlogSeconds` of work, due within `deadlineMs`.
 * `own` undefined (nothing measured yet) admits.
 */
export function admissionOf(own: WorkEstimate | undefined, backlogSeconds: number, deadlineMs: number): Admission {
  if (own === undefined || own.samples < MIN_SAMPLES_TO_REFUSE) return ADMITTED;
  const limitSeconds = (deadlineMs / 1000) * (1 + ESTIMATE_TOLERANCE);
  if (own.seconds > limitSeconds) return { admitted: false, reason: 'too_long', estimatedSeconds: own.seconds };
  if (own.seconds + backlogSeconds > limitSeconds) {
    return { admitted: false, reason: 'backlog', estimatedSeconds: own.seconds, backlogSeconds };
  }
  return ADMITTED;
}
