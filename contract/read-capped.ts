// Reads a body into memory with a size cap, so no peer can make either service buffer more than it
// means to: a declared Content-Length over the cap is refused before a byte is read, and the stream
// is counted as it arrives (a chunked body declares nothing). Used for request bodies on the GPU
// function, for GPU answers on the edge, and for pictures the Node edge keeps in memory.

/**
 * The whole body, or null once it is (or says it is) larger than `maxBytes`; the stream is then
 * cancelled. A failing read is rethrown, after cancelling, for the caller to name.
 */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  declaredLength?: string | null,
): Promise<Uint8Array | null> {
  if (Number(declaredLength ?? 0) > maxBytes) {
    await body?.cancel().catch(() => undefined);
    return null;
  }
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return null;
      }
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw error;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
