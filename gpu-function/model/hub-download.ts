// Puts a Hub model's pipeline files into the Hugging Face cache and returns the snapshot folder.
//
// Online, in requests:
//   1. GET /api/models/<repo>/revision/<revision> (@huggingface/hub `modelInfo`): the commit sha the
//      revision points to now, and the repo's file list. This is the only request when the cache
//      already holds every pipeline file of that commit (a warm start), as in Python's snapshot_download.
//   2. POST /api/models/<repo>/paths-info/<commit> (`pathsInfo`) for the files still missing: sizes,
//      git oids and LFS sha256s.
//   3. One GET /<repo>/resolve/<commit>/<path> per missing file (hub-transfer.ts), by commit, so a
//      branch moving mid-download cannot mix two versions.
// HF_HUB_OFFLINE: no request at all; refs/<revision> gives the commit and the snapshot must be there.
// If the Hub cannot be reached (a network error, not an HTTP answer) and the cache knows the revision,
// the cached snapshot is used with a warning, so a restart survives a Hub outage.
import { HubApiError, modelInfo, pathsInfo } from '@huggingface/hub';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cachedCommit,
  COMMIT_SHA,
  existsFollowingLinks,
  linkSnapshotFile,
  repoCache,
  writeRef,
  type RepoCache,
} from './hub-cache';
import { DEFAULT_HUB_URL } from './hub-settings';
import { transferBlob, type HubFile } from './hub-transfer';
import { formatBytes, progressPrinter, type DownloadProgress } from './download-progress';
import { isPipelineFile, REQUIRED_FILES } from './pipeline-files';

export interface HubDownloadOptions {
  readonly cacheDir: string;
  /** Sent as `Authorization: Bearer …` to the Hub; never logged. */
  readonly token?: string | undefined;
  /** Use the cache only (HF_HUB_OFFLINE). */
  readonly offline: boolean;
  /** @default https://huggingface.co */
  readonly hubUrl?: string | undefined;
  /** Called as bytes arrive. @default progressPrinter(log): a line per file and per 5% */
  readonly onProgress?: ((progress: DownloadProgress) => void) | undefined;
  readonly log: (line: string) => void;
  /** Attempts per file, each resuming where the last stopped. @default 3 */
  readonly attempts?: number;
  /** A transfer with no bytes for this long is interrupted (and resumed). @default 60000 */
  readonly stallTimeoutMs?: number;
}

export interface HubSnapshot {
  readonly repo: string;
  /** The revision asked for (branch, tag or sha). */
  readonly revision: string;
  /** The commit sha it resolved to: the model's revision in `X-Model` and the content key. */
  readonly commit: string;
  /** snapshots/<commit>: a folder in the diffusers ONNX layout. */
  readonly dir: string;
  /** Files transferred and bytes received by this call (0 when the cache had everything). */
  readonly downloadedFiles: number;
  readonly downloadedBytes: number;
  /** True when no Hub request confirmed the commit (offline, or the Hub unreachable). */
  readonly fromCacheOnly: boolean;
}

export async function fetchHubSnapshot(repo: string, revision: string, options: HubDownloadOptions): Promise<HubSnapshot> {
  const cache = repoCache(options.cacheDir, repo);
  if (options.offline) return cachedSnapshot(cache, repo, revision, options, 'HF_HUB_OFFLINE is set');
  const hubUrl = (options.hubUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  if (options.token !== undefined && !options.token.startsWith('hf_')) {
    throw new Error('HF_TOKEN must be a Hugging Face access token (they start with "hf_")');
  }
  const credentials = { hubUrl, ...(options.token === undefined ? {} : { accessToken: options.token }) };

  let info: { sha: string; filePaths: string[] };
  try {
    info = await modelInfo({ name: repo, revision, additionalFields: ['sha', 'filePaths'], ...credentials });
  } catch (error) {
    if (!isNetworkError(error) || (await cachedCommit(cache, revision)) === undefined) {
      throw hubError(error, repo, revision, hubUrl);
    }
    options.log(`model: the Hub at ${hubUrl} cannot be reached (${causeOf(error)}); trying the cache`);
    return cachedSnapshot(cache, repo, revision, options, 'the Hub is unreachable');
  }
  const commit = info.sha;
  if (!COMMIT_SHA.test(commit)) throw new Error(`the Hub gave "${commit}" as the commit of ${repo}@${revision}`);
  await writeRef(cache, revision, commit);

  const wanted = info.filePaths.filter(isPipelineFile).sort();
  const absent = Object.values(REQUIRED_FILES).filter((file) => !wanted.includes(file));
  if (absent.length > 0) {
    throw new Error(
      `${repo}@${revision} (commit ${commit}) is not a diffusers ONNX pipeline: it has no ${absent.join(', ')}` +
        (revision === 'main' ? ' (ONNX exports often live on another branch, e.g. MODEL=<repo>@onnx)' : ''),
    );
  }
  const dir = cache.snapshotDir(commit);
  const missing: string[] = [];
  for (const file of wanted) if (!(await existsFollowingLinks(join(dir, file)))) missing.push(file);
  if (missing.length === 0) {
    options.log(`model: ${repo}@${revision} is commit ${commit}; all ${wanted.length} pipeline files are in the cache`);
    return { repo, revision, commit, dir, downloadedFiles: 0, downloadedBytes: 0, fromCacheOnly: false };
  }

  let files: HubFile[];
  try {
    files = (await pathsInfo({ repo, paths: missing, revision: commit, ...credentials })).map(toHubFile);
  } catch (error) {
    throw hubError(error, repo, commit, hubUrl);
  }
  const unknown = missing.filter((path) => !files.some((file) => file.path === path));
  if (unknown.length > 0) throw new Error(`${repo}@${commit}: the Hub has no information on ${unknown.join(', ')}`);

  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  options.log(
    `model: ${repo}@${revision} is commit ${commit}; fetching ${files.length} of ${wanted.length} pipeline files ` +
      `(${formatBytes(totalBytes)}) into ${cache.folder}`,
  );
  const onProgress = options.onProgress ?? progressPrinter(options.log);
  let doneBytes = 0;
  let downloadedBytes = 0;
  for (const [index, file] of files.entries()) {
    const report = (fileBytes: number) =>
      onProgress({
        file: file.path,
        fileBytes,
        fileSize: file.size,
        bytes: doneBytes + fileBytes,
        totalBytes,
        fileIndex: index + 1,
        fileCount: files.length,
      });
    const blob = cache.blobPath(file.etag);
    if (await existsFollowingLinks(blob)) {
      report(file.size); // the same bytes are cached under another revision (or by Python)
    } else {
      await mkdir(join(cache.folder, 'blobs'), { recursive: true });
      downloadedBytes += await transferBlob({
        url: `${hubUrl}/${repo}/resolve/${commit}/${file.path.split('/').map(encodeURIComponent).join('/')}`,
        token: options.token,
        file,
        blobPath: blob,
        attempts: options.attempts ?? 3,
        stallTimeoutMs: options.stallTimeoutMs ?? 60_000,
        onBytes: report,
        log: options.log,
      });
    }
    await linkSnapshotFile(cache, commit, file.path, file.etag);
    doneBytes += file.size;
  }
  return { repo, revision, commit, dir, downloadedFiles: files.length, downloadedBytes, fromCacheOnly: false };
}

async function cachedSnapshot(
  cache: RepoCache,
  repo: string,
  revision: string,
  options: HubDownloadOptions,
  why: string,
): Promise<HubSnapshot> {
  const commit = await cachedCommit(cache, revision);
  const dir = commit === undefined ? undefined : cache.snapshotDir(commit);
  const present = dir === undefined ? [] : await readdir(dir).catch(() => []);
  if (commit === undefined || dir === undefined || present.length === 0) {
    throw new Error(
      `${why} and ${repo}@${revision} is not in the Hugging Face cache at ${options.cacheDir} ` +
        `(no ${commit === undefined ? `refs/${revision}` : `snapshots/${commit}`} under ${cache.folder}); ` +
        'start once with network access to download it, or point HF_HOME/HF_HUB_CACHE at a cache that has it',
    );
  }
  options.log(`model: ${why}; using ${repo}@${revision} from the cache, commit ${commit}`);
  return { repo, revision, commit, dir, downloadedFiles: 0, downloadedBytes: 0, fromCacheOnly: true };
}

function toHubFile(info: { path: string; size: number; oid?: string; lfs?: { oid: string; size: number } }): HubFile {
  if (info.lfs !== undefined) return { path: info.path, size: info.lfs.size, etag: info.lfs.oid, lfs: true };
  if (info.oid === undefined) throw new Error(`the Hub gave no oid for ${info.path}`);
  return { path: info.path, size: info.size, etag: info.oid, lfs: false };
}


/** The Hub's answer in words a person running the service can act on. The token never appears. */
/** What a failed Hub metadata call means for the operator (also `npm run deploy --model`'s message). */
export function hubError(error: unknown, repo: string, revision: string, hubUrl: string): Error {
  if (error instanceof HubApiError) {
    const said = error.message;
    if (error.statusCode === 404 && /rev|revision/i.test(said)) {
      return new Error(`revision "${revision}" does not exist in ${repo} (${said})`);
    }
    if (error.statusCode === 401 || error.statusCode === 404) {
      return new Error(`${repo} was not found on ${hubUrl} (${said}); a private or gated repo needs HF_TOKEN`);
    }
    if (error.statusCode === 403) {
      return new Error(`access to ${repo} is restricted (${said}); accept its terms on the Hub and set HF_TOKEN`);
    }
    return new Error(`the Hub answered ${error.statusCode} for ${repo}@${revision}: ${said}`);
  }
  if (isNetworkError(error)) {
    return new Error(`cannot reach the Hub at ${hubUrl} for ${repo}@${revision}: ${causeOf(error)}`);
  }
  return new Error(`the Hub's answer for ${repo}@${revision} could not be used: ${causeOf(error)}`);
}

/** Node's fetch (undici) rejects with TypeError('fetch failed') when no HTTP answer came back. */
function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError && error.message === 'fetch failed';
}

function causeOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
