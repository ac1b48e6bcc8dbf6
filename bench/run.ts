// `npm run bench`: every benchmark, one after the other (never two at once: they would share the CPU),
// each printing a markdown section whose figures are ratios against a baseline measured in the same run.
// Nothing passes or fails on a time. Paste the output into BENCHMARKS.md with the machine it ran on.
//
//   npm run bench                      all of them (about 10 minutes on 2 cores)
//   npm run bench -- --only edge-hit-path,edge-cpu
//   npm run bench -- --quick           shorter runs, for a first look (noisier)
//
// Each bench also runs alone: npx tsx bench/<name>.ts (its flags are in its header comment).
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { runCpuOverheadBench } from './cpu-overhead';
import { runEdgeCpuBench } from './edge-cpu';
import { runHitPathBench } from './edge-hit-path';
import { runEdgeLoadBench } from './edge-load';
import { runGenerationStagesBench } from './generation-stages';
import { runGpuFunctionThroughputBench } from './gpu-function-throughput';
import { runPngEncodeBench } from './png-encode';
import { runSimulatedGpuBench } from './simulated-gpu';
import { type BenchSection, machineLine, printSection } from './support/stats';

interface Bench {
  readonly name: string;
  readonly run: (quick: boolean) => Promise<BenchSection> | BenchSection;
}

const BENCHES: readonly Bench[] = [
  { name: 'edge-cpu', run: (quick) => runEdgeCpuBench(quick ? { iterations: 5_000, rounds: 3 } : {}) },
  { name: 'edge-hit-path', run: (quick) => runHitPathBench(quick ? { seconds: 2, rounds: 1 } : {}) },
  { name: 'edge-load', run: (quick) => runEdgeLoadBench(quick ? { seconds: 2, rounds: 1 } : {}) },
  { name: 'generation-stages', run: (quick) => runGenerationStagesBench(quick ? { runs: 3 } : {}) },
  { name: 'cpu-overhead', run: (quick) => runCpuOverheadBench(quick ? { rounds: 2 } : {}) },
  { name: 'simulated-gpu', run: (quick) => runSimulatedGpuBench(quick ? { requests: 30, rounds: 1 } : {}) },
  { name: 'png-encode', run: (quick) => runPngEncodeBench({ iterations: quick ? 10 : 30, summary: true }) },
  { name: 'gpu-function-throughput', run: (quick) => runGpuFunctionThroughputBench(quick ? { requests: 8, rounds: 1 } : { rounds: 2 }) },
];

const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } } });
const only = values.only?.split(',').map((name) => name.trim());
const unknown = only?.filter((name) => !BENCHES.some((bench) => bench.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; the benches are ${BENCHES.map((bench) => bench.name).join(', ')}`);
  process.exit(2);
}

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
console.log(`# dreamurl benchmarks\n\n${new Date().toISOString().slice(0, 10)}, commit ${commit}; ${machineLine()}${values.quick ? '; --quick' : ''}.`);
const started = performance.now();
for (const bench of BENCHES) {
  if (only !== undefined && !only.includes(bench.name)) continue;
  const t = performance.now();
  printSection(await bench.run(values.quick === true));
  console.error(`(${bench.name}: ${((performance.now() - t) / 1000).toFixed(0)} s)`);
}
console.error(`(all: ${((performance.now() - started) / 1000).toFixed(0)} s)`);
