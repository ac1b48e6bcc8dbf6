// What every port's set_timesteps checks before it branches on timestep_spacing ("linspace",
// "leading" or "trailing", the annotations of Table 2 in https://arxiv.org/abs/2305.08891).

/** A positive integer no larger than the training schedule (diffusers raises ValueError otherwise). */
export function assertStepCount(className: string, numInferenceSteps: number, trainSteps: number): void {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
    throw new RangeError(`${className}: num_inference_steps must be a positive integer, got ${numInferenceSteps}`);
  }
  if (numInferenceSteps > trainSteps) {
    throw new RangeError(
      `${className}: num_inference_steps (${numInferenceSteps}) cannot be larger than num_train_timesteps (${trainSteps})`,
    );
  }
}

/** The error diffusers raises for any other timestep_spacing. */
export function unknownSpacing(className: string, spacing: string): RangeError {
  return new RangeError(
    `${className}: timestep_spacing ${JSON.stringify(spacing)} is not supported. ` +
      "Please make sure to choose one of 'linspace', 'leading' or 'trailing'.",
  );
}
