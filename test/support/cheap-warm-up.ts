// GPU function settings for the tests whose subject is not the cost limits, the warm-up, the memory
// check or `npm start`'s defaults: they ask for tiny-sd's 64² pictures, and should not pay for 512² ones.
//
// Why: start-up warms the largest picture the limits admit, guided, at its largest batch, before /ping
// says 200 (gpu-function/server/warm-up.ts). On tiny-sd (dreamurl.json: max_side 512) with the CPU's
// built-in limits that is 512², which took 19–29 s and 3.8 GB of peak RSS per start on the 2-core test
// machine (load 3), while its 64² runs took milliseconds. Capped at 128² (one 128² picture, or four 64²
// ones, per batch) the same start-up, every run of it, takes about 0.2 s and 0.36 GB.
//
// The cap still admits every size these tests request. The edge cannot drift from it: the stack and
// `npm start` build the edge's profile from the GPU function's GET /v1/model. fixtureEnv
// (gpu-function-service.ts) starts from it too, with smaller sides and defaults. The tests that ARE about
// the limits, the warm-up or memory set what they test themselves: memory.test.ts's peak-RSS test and
// npm-start-cost-limits.test.ts run the real built-in limits, warm-up.test.ts checks the plan on
// fixtureEnv's, startup.test.ts sets its own, and deploy.test.ts pins the built-in limits (it skips the
// warm-up, WARMUP_STEPS=0).
export const CHEAP_WARM_UP: Readonly<Record<string, string>> = Object.freeze({
  MAX_PIXELS: String(128 * 128),
  MAX_BATCH_PIXELS: String(128 * 128),
  // The environment's limits are checked against the environment's defaults before the model's
  // dreamurl.json is read (gpu-function/config.ts), and the built-in 512² default exceeds the cap:
  // tiny-sd's own 64² is said here too.
  DEFAULT_WIDTH: '64',
  DEFAULT_HEIGHT: '64',
  WARMUP_STEPS: '1',
});
