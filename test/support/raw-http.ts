// A raw HTTP/1.1 exchange over a TCP socket: the request target is written byte for byte (no URL
// parser in between cleans up CR, LF or NUL), and the answer's head is returned as the lines the
// server actually sent. For tests that check what reaches the wire (header injection).
import { connect } from 'node:net';

export interface RawAnswer {
  /** The status code, or undefined when the server closed without answering. */
  readonly status: number | undefined;
  /** The header lines as sent (without the status line), unparsed. */
  readonly headerLines: readonly string[];
  readonly body: Buffer;
}

/** Sends `METHOD target HTTP/1.1` with Host and `Connection: close`; the target's bytes go out as latin1. */
export function rawRequest(baseUrl: string, method: string, target: string, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  const head = [`${method} ${target} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', ...Object.entries(headers).map(([n, v]) => `${n}: ${v}`)];
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no complete answer within ${timeoutMs} ms for ${method} ${target.slice(0, 100)}`)));
    socket.on('connect', () => socket.write(Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1')));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // Some servers keep the connection open despite `Connection: close`: stop once the answer is whole.
      const bytes = Buffer.concat(chunks);
      if (isComplete(bytes, method)) {
        socket.destroy();
        resolve(parse(bytes));
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A server may reset a connection whose request it refuses outright; that is an answer too.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve(parse(Buffer.concat(chunks)));
      else reject(error);
    });
    socket.on('end', () => resolve(parse(Buffer.concat(chunks))));
  });
}

/** Whether `bytes` hold a whole answer: its head, then Content-Length bytes or a last chunk (RFC 9112 §6–7). */
function isComplete(bytes: Buffer, method: string): boolean {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const head = bytes.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) return true;
  const body = bytes.subarray(end + 4);
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (length !== null) return body.length >= Number(length[1]);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) return body.includes('\r\n0\r\n\r\n') || body.subarray(0, 5).toString() === '0\r\n\r\n';
  return false; // delimited by the connection closing
}

function parse(bytes: Buffer): RawAnswer {
  const end = bytes.indexOf('\r\n\r\n');
  if (bytes.length === 0 || end === -1) return { status: undefined, headerLines: [], body: Buffer.alloc(0) };
  const [statusLine = '', ...headerLines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (match === null) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  return { status: Number(match[1]), headerLines, body: bytes.subarray(end + 4) };
}
