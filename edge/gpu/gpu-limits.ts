// Fixed bounds of the GPU client (the tunable ones are settings, see edge/config/config.ts).

/** Suggested wait after a connection failure or a timeout (no Retry-After from upstream then). */
export const GPU_RETRY_AFTER_SECONDS = 10;

/** A 2048×2048 RGBA PNG stored raw is 16 MiB; anything larger is not a picture we asked for. */
export const MAX_PNG_BYTES = 24 * 1024 * 1024;
