// What `MODEL` names: a Hugging Face Hub repo (`org/name`, optionally `@revision`) or a local folder in
// the diffusers ONNX layout. The rule, in order:
//   1. empty → the default, CompVis/stable-diffusion-v1-4@onnx;
//   2. starts with `/`, `./`, `../` (or is `.`/`..`) → a folder, whether or not it exists (a typo in a
//      path should say "no such folder", not "no such repo");
//   3. an existing directory (relative to the working directory) → a folder, as diffusers'
//      `from_pretrained` prefers a local directory over a Hub id of the same name;
//   4. `org/name` or `org/name@revision` → a Hub repo; the revision is a branch, tag or commit sha
//      (default `main`);
//   5. anything else is an error.
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export const DEFAULT_MODEL = 'CompVis/stable-diffusion-v1-4@onnx';
export const DEFAULT_REVISION = 'main';

export type ModelSpec =
  | { readonly kind: 'hub'; readonly repo: string; readonly revision: string }
  | { readonly kind: 'local'; readonly path: string };

export interface ParseModelSpecOptions {
  /** Folder that relative paths are resolved against. @default process.cwd() */
  readonly cwd?: string;
  /** @default a synchronous stat */
  readonly isDirectory?: (path: string) => boolean;
}

// The Hub's own rule for repo names: letters, digits, `-`, `_`, `.`; no `--` or `..`; `-` and `.`
// neither first nor last; at most 96 characters (huggingface_hub's `validate_repo_id`).
const NAME = /^(?!.*(?:--|\.\.))[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$/;
// A git ref or commit sha: the revision becomes a path under the cache's refs/, so nothing that could
// leave that folder (`..`, a leading `/`, backslashes) is allowed.
const REVISION = /^(?!.*\.\.)(?!\/)(?!.*\/\/)(?!.*\/$)[A-Za-z0-9._/-]{1,200}$/;

export function parseModelSpec(spec: string, options: ParseModelSpecOptions = {}): ModelSpec {
  const text = spec.trim() === '' ? DEFAULT_MODEL : spec.trim();
  const cwd = options.cwd ?? process.cwd();
  const isDirectory = options.isDirectory ?? isDirectoryOnDisk;
  if (looksLikePath(text) || isDirectory(resolve(cwd, text))) {
    return { kind: 'local', path: resolve(cwd, text) };
  }
  const at = text.indexOf('@');
  const repo = at === -1 ? text : text.slice(0, at);
  const revision = at === -1 ? DEFAULT_REVISION : text.slice(at + 1);
  const parts = repo.split('/');
  const validRepo = parts.length === 2 && parts.every((part) => NAME.test(part));
  if (!validRepo) {
    throw new Error(
      `MODEL=${text} is neither a folder on disk nor a Hub repo id ("org/name" or "org/name@revision")`,
    );
  }
  if (!REVISION.test(revision)) {
    throw new Error(`MODEL=${text}: "${revision}" is not a valid revision (a branch, tag or commit sha)`);
  }
  return { kind: 'hub', repo, revision };
}

/** `org/name@revision` or the folder path, for logs. */
export function formatModelSpec(spec: ModelSpec): string {
  return spec.kind === 'hub' ? `${spec.repo}@${spec.revision}` : spec.path;
}

function looksLikePath(text: string): boolean {
  return (
    isAbsolute(text) ||
    text === '.' ||
    text === '..' ||
    text.startsWith('./') ||
    text.startsWith('../') ||
    text.startsWith('.\\') ||
    text.startsWith('..\\')
  );
}

function isDirectoryOnDisk(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
