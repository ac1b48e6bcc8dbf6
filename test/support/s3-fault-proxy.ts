// A loopback HTTP proxy in front of a test S3 server that fails on request, for the storage-failure
// tests: the S3 client talks real HTTP to it, and it either forwards (byte for byte) or answers
// with an S3-style XML error. Faults match by HTTP method, so "reads fail, writes work" and the
// reverse can be staged; every request is counted by method.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface S3Fault {
  /** Which requests fail: GET (GetObject), HEAD (HeadObject, HeadBucket), PUT (PutObject). */
  readonly methods: readonly string[];
  /** Status to answer (503 with `SlowDown`, 500 with `InternalError`, or anything else). */
  readonly status: number;
}

export interface S3FaultProxy {
  /** Use as S3_ENDPOINT. */
  readonly url: string;
  /** Starts failing (replacing any earlier fault); null forwards everything again. */
  fail(fault: S3Fault | null): void;
  /** Requests seen per method (failed ones included). */
  counts(): Readonly<Record<string, number>>;
  close(): Promise<void>;
}

export async function startS3FaultProxy(upstream: string): Promise<S3FaultProxy> {
  const target = new URL(upstream);
  const counts: Record<string, number> = {};
  const sockets = new Set<Socket>();
  let fault: S3Fault | null = null;

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    counts[method] = (counts[method] ?? 0) + 1;
    if (fault?.methods.includes(method)) return void answerError(req, res, fault.status);
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method, path: req.url, headers: req.headers },
      (upstreamRes: IncomingMessage) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    fail: (next) => {
      fault = next;
    },
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function answerError(req: IncomingMessage, res: ServerResponse, status: number): void {
  req.resume(); // read and drop the upload, as S3 does before answering
  const code = status === 503 ? 'SlowDown' : status === 500 ? 'InternalError' : 'InjectedFault';
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by s3-fault-proxy</Message></Error>`;
  req.on('end', () => {
    // A HEAD answer has no body, as with real S3.
    res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
    res.end(req.method === 'HEAD' ? undefined : xml);
  });
}
