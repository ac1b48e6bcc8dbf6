// A Hub repository made from a fixture folder, with the ids the real Hub gives its files: every file has
// a git blob oid; files git-lfs would store (by extension, as the Hub's default .gitattributes says, or
// over 10 MB) also have an LFS pointer whose sha256 is their content hash. The git oid of an LFS file is
// the oid of its pointer, as in a real repo. The commit sha is derived from the file list, so it is
// stable across runs and changes when a file does.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface RepoFile {
  readonly path: string;
  readonly content: Buffer;
  /** git blob oid: of the content, or of the LFS pointer for LFS files. */
  readonly oid: string;
  readonly lfs: { readonly oid: string; readonly size: number; readonly pointerSize: number } | undefined;
}

export interface HubRepo {
  readonly id: string;
  readonly commit: string;
  readonly branches: readonly string[];
  readonly files: ReadonlyMap<string, RepoFile>;
  /** Directory paths (every proper prefix of a file path), as the tree API lists them. */
  readonly directories: readonly string[];
}

export interface HubRepoSource {
  /** `org/name`. */
  readonly id: string;
  /** A folder whose files (symlinks followed) become the repo's files. */
  readonly dir?: string;
  /** More files, or replacements, by repo path. */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Branch names that point at the commit. @default ['main'] */
  readonly branches?: readonly string[];
}

const LFS_EXTENSIONS = /\.(onnx|onnx_data|pb|bin|safetensors|ckpt|pt|pth|msgpack|h5)$/i;
const LFS_THRESHOLD = 10 * 1024 * 1024;

export async function buildHubRepo(source: HubRepoSource): Promise<HubRepo> {
  const contents = new Map<string, Buffer>();
  if (source.dir !== undefined) {
    for (const path of await listFiles(source.dir, '')) contents.set(path, await readFile(join(source.dir, path)));
  }
  for (const [path, content] of Object.entries(source.files ?? {})) contents.set(path, Buffer.from(content));

  const files = new Map<string, RepoFile>();
  for (const path of [...contents.keys()].sort()) {
    const content = contents.get(path) ?? Buffer.alloc(0);
    if (LFS_EXTENSIONS.test(path) || content.length > LFS_THRESHOLD) {
      const sha256 = createHash('sha256').update(content).digest('hex');
      const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${content.length}\n`;
      const lfs = { oid: sha256, size: content.length, pointerSize: Buffer.byteLength(pointer) };
      files.set(path, { path, content, oid: gitBlobOid(Buffer.from(pointer)), lfs });
    } else {
      files.set(path, { path, content, oid: gitBlobOid(content), lfs: undefined });
    }
  }
  const commit = createHash('sha1')
    .update([...files.values()].map((file) => `${file.path} ${file.oid}\n`).join(''))
    .digest('hex');
  const directories = new Set<string>();
  for (const path of files.keys()) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
  }
  return { id: source.id, commit, branches: source.branches ?? ['main'], files, directories: [...directories].sort() };
}

/** git's blob id: sha1 of "blob <size>\0" + content. */
export function gitBlobOid(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

async function listFiles(root: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(join(root, prefix))) {
    const path = prefix === '' ? name : `${prefix}/${name}`;
    const info = await stat(join(root, path));
    if (info.isDirectory()) out.push(...(await listFiles(root, path)));
    else if (info.isFile()) out.push(path);
  }
  return out;
}
