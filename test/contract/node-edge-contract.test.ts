// The contract table against the edge on Node: the real HTTP server (@hono/node-server) with S3
// (s3rver on loopback), the in-memory LRU, the in-process rate limiter and coalescing, and the GPU
// stub. One Node edge per contract environment, started on first use. The workerd run of the same
// table is test/edge/contract-table.test.ts.
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { NodeEdge } from '../../edge/node/node-edge';
import { type NodeStack, startNodeStack } from '../edge-node/support/node-stack';
import { CONTRACT_CASES } from './contract-cases';
import { CONTRACT_ENVIRONMENTS, type ContractEnvironment } from './contract-environments';
import { type ContractTarget, runContractCase } from './run-contract-case';

let stack: NodeStack;
const edges = new Map<ContractEnvironment, Promise<NodeEdge>>();

beforeAll(async () => {
  stack = await startNodeStack();
});

afterAll(async () => {
  await stack?.close();
});

const node: ContractTarget = {
  async request(env, pathAndQuery, init) {
    let edge = edges.get(env);
    if (edge === undefined) {
      edge = stack.edge(CONTRACT_ENVIRONMENTS[env]);
      edges.set(env, edge);
    }
    return fetch(`${(await edge).url}${pathAndQuery}`, init);
  },
  get gpu() {
    return stack.gpu;
  },
};

describe('the edge contract on Node (S3, LRU, in-process limiter and coalescing)', () => {
  it.each(CONTRACT_CASES.map((c) => ({ ...c, label: c.name })))('$label', (contractCase) => runContractCase(node, contractCase));
});
