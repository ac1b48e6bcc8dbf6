// Reads the GPU function's answer into memory with a size cap, telling a timeout apart from a dropped
// connection.
import { readCapped } from '../../contract';
import { badGpuResponse, gpuTimeout } from '../errors/problems';
import { GPU_RETRY_AFTER_SECONDS } from './gpu-limits';

export async function readBody(
  response: Response,
  maxBytes: number,
  timedOut: () => boolean,
  timeoutMs: number,
): Promise<Uint8Array> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readCapped(response.body, maxBytes, response.headers.get('Content-Length'));
  } catch {
    if (timedOut()) throw gpuTimeout(timeoutMs, GPU_RETRY_AFTER_SECONDS);
    throw badGpuResponse('The connection to the GPU function broke off mid-picture.');
  }
  if (bytes === null) throw badGpuResponse(`The GPU function's answer is larger than ${maxBytes} bytes.`);
  return bytes;
}
