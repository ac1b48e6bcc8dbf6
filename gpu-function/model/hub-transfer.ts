// Moves one file from the Hub's resolve endpoint into the cache's blob store: resumable, checked, and
// reporting bytes as they arrive. @huggingface/hub's downloadFileToCacheDir covers none of that (it
// rewrites the `.incomplete` file from zero, has no progress hook and trusts whatever arrived), so the
// transfer is done here with a plain ranged GET, as Python's huggingface_hub `http_get` does:
//   - bytes go to blobs/<etag>.incomplete; a later attempt (in this run or the next) asks for
//     `Range: bytes=<length>-` and appends; a server that answers 200 instead of 206 restarts the file;
//   - a stalled connection (no bytes for stallTimeoutMs) counts as interrupted;
//   - the finished file must have the Hub's size and hash (LFS: sha256 = the LFS oid; small git files:
//     git's blob sha1 = the oid) before it is renamed to blobs/<etag>; a mismatch deletes it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat, truncate } from 'node:fs/promises';

export interface HubFile {
  /** Path in the repo, `/`-separated. */
  readonly path: string;
  readonly size: number;
  /** Blob name in the cache (Python's etag): the LFS sha256, or the git blob sha1 for small files. */
  readonly etag: string;
  readonly lfs: boolean;
}

export interface TransferOptions {
  readonly url: string;
  readonly token: string | undefined;
  readonly file: HubFile;
  readonly blobPath: string;
  /** Attempts per file; each one resumes where the last stopped. */
  readonly attempts: number;
  readonly stallTimeoutMs: number;
  /** Bytes of this file on disk so far (resumed bytes included), called as they arrive. */
  readonly onBytes: (bytesOnDisk: number) => void;
  readonly log: (line: string) => void;
}

/** Downloads into `<blobPath>.incomplete`, verifies, renames to `blobPath`. Returns the bytes transferred. */
export async function transferBlob(options: TransferOptions): Promise<number> {
  const { file, blobPath } = options;
  const incomplete = `${blobPath}.incomplete`;
  let transferred = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      transferred += await transferOnce(options, incomplete);
      break;
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      const onDisk = await sizeOf(incomplete);
      const where = `${file.path} stopped at ${onDisk} of ${file.size} bytes (${error.message})`;
      if (attempt >= options.attempts) throw new Error(`download of ${where}; run again to resume`);
      options.log(`model: download of ${where}; resuming (attempt ${attempt + 1} of ${options.attempts})`);
    }
  }
  await verify(file, incomplete);
  await rename(incomplete, blobPath);
  return transferred;
}

/** A transfer that stopped for a reason worth resuming after (network, stall, server error). */
class Interrupted extends Error {}

async function transferOnce(options: TransferOptions, incomplete: string): Promise<number> {
  const { file } = options;
  let offset = await sizeOf(incomplete);
  if (offset > file.size) {
    await truncate(incomplete, 0);
    offset = 0;
  }
  options.onBytes(offset);
  if (offset === file.size) return 0;

  const stall = new AbortController();
  const timer = setTimeout(() => stall.abort(), options.stallTimeoutMs);
  let response: Response;
  try {
    response = await fetch(options.url, {
      headers: {
        ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
        ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}),
        // Sizes and hashes are of the stored bytes, and a range of a compressed body would mean nothing.
        'Accept-Encoding': 'identity',
      },
      signal: stall.signal,
    });
  } catch (error) {
    clearTimeout(timer);
    throw new Interrupted(stall.signal.aborted ? 'no response' : describe(error));
  }

  if (response.status === 416) {
    // The server has fewer bytes than the partial file: start over.
    clearTimeout(timer);
    await response.body?.cancel();
    await truncate(incomplete, 0);
    throw new Interrupted('range not satisfiable, starting over');
  }
  if (!response.ok) {
    clearTimeout(timer);
    await response.body?.cancel();
    const problem = `${file.path}: the Hub answered ${response.status} ${response.statusText}`;
    if (response.status >= 500 || response.status === 429) throw new Interrupted(problem);
    if (response.status === 401 || response.status === 403) {
      throw new Error(`${problem}; a private or gated model needs HF_TOKEN with access to it`);
    }
    throw new Error(problem);
  }
  if (offset > 0 && response.status === 200) offset = 0; // the server ignored Range: rewrite the file
  if (offset > 0 && !contentRangeStartsAt(response, offset)) {
    clearTimeout(timer);
    await response.body?.cancel();
    throw new Error(`${file.path}: the Hub answered a range that does not start at byte ${offset}`);
  }

  const handle = await open(incomplete, offset > 0 ? 'a' : 'w');
  let written = 0;
  try {
    if (response.body === null) throw new Interrupted('empty response');
    const chunks = response.body[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await chunks.next();
      } catch (error) {
        // Only reading the body counts as interrupted; a failing disk (ENOSPC) below is a plain error.
        throw new Interrupted(stall.signal.aborted ? `no data for ${options.stallTimeoutMs} ms` : describe(error));
      }
      if (next.done) break;
      timer.refresh();
      await handle.write(next.value);
      written += next.value.byteLength;
      options.onBytes(offset + written);
    }
  } finally {
    clearTimeout(timer);
    await handle.close();
  }
  if (offset + written < file.size) throw new Interrupted('connection closed early');
  return written;
}

function contentRangeStartsAt(response: Response, offset: number): boolean {
  const match = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match !== null && Number(match[1]) === offset;
}

/** Size and hash against the Hub's; a file that fails is deleted so the next run starts clean. */
async function verify(file: HubFile, path: string): Promise<void> {
  const size = await sizeOf(path);
  const actual = size === file.size ? await digest(path, file) : undefined;
  const expected = file.etag;
  if (actual === expected) return;
  await rm(path, { force: true });
  const what = actual === undefined ? `${size} bytes instead of ${file.size}` : `${file.lfs ? 'sha256' : 'git sha1'} ${actual} instead of ${expected}`;
  throw new Error(`${file.path}: the download is corrupt (${what}); it was deleted, run again to fetch it anew`);
}

/** LFS files are named by their sha256; small files by git's blob id, sha1("blob <size>\0" + bytes). */
async function digest(path: string, file: HubFile): Promise<string> {
  const hash = createHash(file.lfs ? 'sha256' : 'sha1');
  if (!file.lfs) hash.update(`blob ${file.size}\0`);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (info) => info.size,
    () => 0,
  );
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
