// The Node edge as tests run it: a real s3rver bucket and a real GPU stub on loopback, and Node edges
// started from environment variables (parsed by the same parseNodeConfig as `npm run start:edge:node`)
// on free ports. close() stops every edge it started, then the stub and the S3 server.
import { contractVars, CONTRACT_STUB_MODEL } from '../../contract/contract-environments';
import { gpuStubControl, type GpuStubControl } from '../../contract/gpu-stub-control';
import { parseNodeConfig } from '../../../edge/node/node-config';
import { type NodeEdge, startNodeEdge } from '../../../edge/node/node-edge';
import { startGpuStub, type GpuStub } from '../../support/gpu-stub-server';
import { startS3Server, type S3TestServer } from '../../support/s3-server';

export const NODE_STACK_BUCKET = 'dreamurl-images';

export interface NodeStack {
  readonly s3: S3TestServer;
  readonly stub: GpuStub;
  readonly gpu: GpuStubControl;
  /** The environment of an edge on this stack (contract `worker` settings, s3rver, port 0), plus `vars`. */
  env(vars?: Record<string, string>): Record<string, string>;
  /** Starts a Node edge with env(vars). */
  edge(vars?: Record<string, string>): Promise<NodeEdge>;
  close(): Promise<void>;
}

export async function startNodeStack(): Promise<NodeStack> {
  const s3 = await startS3Server({ buckets: [NODE_STACK_BUCKET] });
  const stub = await startGpuStub({ model: CONTRACT_STUB_MODEL });
  const edges: NodeEdge[] = [];
  const env = (vars: Record<string, string> = {}) => ({
    ...contractVars(stub.url),
    ...s3.env(NODE_STACK_BUCKET),
    PORT: '0',
    ...vars,
  });
  return {
    s3,
    stub,
    gpu: gpuStubControl(stub.url),
    env,
    async edge(vars) {
      const edge = await startNodeEdge(parseNodeConfig(env(vars)));
      edges.push(edge);
      return edge;
    },
    async close() {
      await Promise.all(edges.map((e) => e.close(1000)));
      await stub.close();
      await s3.close();
    },
  };
}
