// Reads a response body into memory with a size cap, telling a timeout apart from a dropped connection.
import { ProblemError } from '../errors/problem';
import { badGpuResponse, gpuTimeout } from '../errors/problems';
import { GPU_RETRY_AFTER_SECONDS } from './gpu-limits';

export async function readBody(
  response: Response,
  maxBytes: number,
  timedOut: () => boolean,
  timeoutMs: number,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('Content-Length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw badGpuResponse(`The GPU function's answer is larger than ${maxBytes} bytes.`);
  }
  if (response.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) throw badGpuResponse(`The GPU function's answer is larger than ${maxBytes} bytes.`);
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (timedOut()) throw gpuTimeout(timeoutMs, GPU_RETRY_AFTER_SECONDS);
    if (error instanceof ProblemError) throw error;
    throw badGpuResponse('The connection to the GPU function broke off mid-picture.');
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
