// The "before" of a before/after bench: the project's code as it was at a fixed commit, loaded next to
// today's in the same process, so both are measured in one run on the same machine state. The commit's
// gpu-function/ folder is written out once with `git archive` under bench/.baseline/<commit>/ (ignored by
// git and the type checker), inside the repository so its imports (zod, onnxruntime-node) resolve from the
// same node_modules, and its modules are imported from there like any TypeScript file under tsx.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * main before the CPU-overhead work of issue #12 (in-place scheduler steps, float16 pass-through,
 * post-processing by table, PNG off the critical path, eager batching).
 */
export const BASELINE_COMMIT = '9a1586ea2a97c74475a5436fae60108aad9f61e6';

const REPOSITORY = join(import.meta.dirname, '../..');

/** The folder holding the baseline's gpu-function/, written on first use. */
export function baselineDir(commit: string = BASELINE_COMMIT): string {
  const dir = join(REPOSITORY, 'bench/.baseline', commit.slice(0, 12));
  if (existsSync(join(dir, '.complete'))) return dir;
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: REPOSITORY, stdio: 'ignore' });
  } catch {
    throw new Error(
      `the baseline commit ${commit} is not in this clone (a shallow clone?); ` +
        'run `git fetch --unshallow` or clone the whole history to measure before/after',
    );
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', '--format=tar', commit, 'gpu-function'], {
    cwd: REPOSITORY,
    maxBuffer: 256 * 2 ** 20,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  execFileSync('touch', [join(dir, '.complete')]);
  return dir;
}

/** Imports `path` (e.g. 'gpu-function/pipeline/stable-diffusion.ts') as it was at the baseline commit. */
export async function importBaseline<Module>(path: string, commit: string = BASELINE_COMMIT): Promise<Module> {
  return (await import(pathToFileURL(join(baselineDir(commit), path)).href)) as Module;
}
