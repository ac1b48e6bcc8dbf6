// Paths in the Hugging Face cache, laid out exactly as Python's huggingface_hub lays it out
// (huggingface_hub/file_download.py), so a cache filled by Python, by @huggingface/hub or by this
// service is shared by all three:
//
//   <cacheDir>/models--<org>--<name>/
//     blobs/<etag>                       file contents; etag = LFS sha256, or the git blob sha1
//     blobs/<etag>.incomplete            a download in progress (resumed from its length)
//     refs/<revision>                    the commit sha a branch or tag pointed to, no newline
//     snapshots/<commit>/<path>          relative symlink to ../../blobs/<etag> (one ../ per folder)
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { getRepoFolderName } from '@huggingface/hub';

export const COMMIT_SHA = /^[0-9a-f]{40}$/;

export interface RepoCache {
  readonly folder: string;
  snapshotDir(commit: string): string;
  blobPath(etag: string): string;
  refPath(revision: string): string;
}

export function repoCache(cacheDir: string, repo: string): RepoCache {
  const folder = join(cacheDir, getRepoFolderName({ type: 'model', name: repo }));
  return {
    folder,
    snapshotDir: (commit) => join(folder, 'snapshots', commit),
    blobPath: (etag) => join(folder, 'blobs', etag),
    refPath: (revision) => join(folder, 'refs', revision),
  };
}

/** The commit a revision names: itself when it is a sha, else what refs/<revision> recorded. */
export async function cachedCommit(cache: RepoCache, revision: string): Promise<string | undefined> {
  if (COMMIT_SHA.test(revision)) return revision;
  try {
    const commit = (await readFile(cache.refPath(revision), 'utf8')).trim();
    return COMMIT_SHA.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRef(cache: RepoCache, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  const path = cache.refPath(revision);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, commit);
}

/** Points snapshots/<commit>/<path> at its blob with a relative link, as Python does. */
export async function linkSnapshotFile(cache: RepoCache, commit: string, path: string, etag: string): Promise<void> {
  const pointer = join(cache.snapshotDir(commit), path);
  await mkdir(dirname(pointer), { recursive: true });
  await rm(pointer, { force: true });
  await symlink(relative(dirname(pointer), cache.blobPath(etag)), pointer);
}

/** True when the path exists with its target (a snapshot link only exists once its blob is complete). */
export async function existsFollowingLinks(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
