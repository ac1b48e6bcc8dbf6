// The contract between the edge and the GPU function, imported by both as `contract` (or one of its
// files): the wire (wire.ts), model profiles and their limit checks (model-profile.ts), problem
// details (problem.ts), the progress stream's events (progress-stream.ts), and the two helpers both
// services need alike, settings and capped reads.
// Zod and web APIs only: it bundles into the Worker as well as into Node.
export * from './model-profile';
export * from './problem';
export * from './progress-stream';
export * from './read-capped';
export * from './settings';
export * from './wire';
