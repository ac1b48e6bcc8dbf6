// Downloading a model from the Hub into the Hugging Face cache, against the local Hub double
// (test/support/hub-double.ts) so @huggingface/hub's requests and our transfers run for real.
//
// Warm-cache decision under test: with the network on, a start makes exactly ONE request, the revision
// lookup (it tells whether a branch moved, as Python's snapshot_download does); HF_HUB_OFFLINE makes none.
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { progressPrinter, type DownloadProgress } from '../../../gpu-function/model/download-progress';
import { fetchHubSnapshot, type HubDownloadOptions } from '../../../gpu-function/model/hub-download';
import { startHubDouble, type HubDouble } from '../../support/hub-double';

const REPO = 'test-org/tiny-sd';
// What an SD ONNX repo also holds and the service must not fetch.
const NOT_NEEDED = {
  'vae_encoder/model.onnx': Buffer.alloc(2048, 1),
  'safety_checker/model.onnx': Buffer.alloc(4096, 2),
  'feature_extractor/preprocessor_config.json': '{"crop_size": 224}',
  'unet/diffusion_pytorch_model.safetensors': Buffer.alloc(1024, 3),
  'text_encoder/pytorch_model.bin': Buffer.alloc(1024, 4),
  'README.md': '# tiny-sd\n',
  '.gitattributes': '*.onnx filter=lfs diff=lfs merge=lfs -text\n',
};
const PIPELINE_FILES = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'text_encoder/model.onnx',
  'tokenizer/merges.txt',
  'tokenizer/special_tokens_map.json',
  'tokenizer/tokenizer_config.json',
  'tokenizer/vocab.json',
  'unet/model.onnx',
  'vae_decoder/model.onnx',
];
const CACHE_REPO = 'models--test-org--tiny-sd';

let hub: HubDouble;
let cacheDir: string;
let lines: string[];

beforeAll(async () => {
  hub = await startHubDouble({
    repos: [
      { id: REPO, dir: 'test/fixtures/tiny-sd', files: NOT_NEEDED, branches: ['main', 'onnx'] },
      { id: 'test-org/not-onnx', files: { 'model_index.json': '{}', 'unet/diffusion_pytorch_model.safetensors': 'x' } },
    ],
  });
});
afterAll(() => hub.close());
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'dreamurl-hub-cache-'));
  lines = [];
  hub.clearRequests();
});
afterEach(() => rm(cacheDir, { recursive: true, force: true }));

function options(extra: Partial<HubDownloadOptions> = {}): HubDownloadOptions {
  return { cacheDir, offline: false, hubUrl: hub.url, log: (line) => lines.push(line), ...extra };
}

/** sha256 of a file: comparing digests, not multi-megabyte buffers, keeps failures readable and fast. */
async function digestOf(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

const fixtureDigest = (path: string) => digestOf(join('test/fixtures/tiny-sd', path));

function fileRequests(): string[] {
  return hub.requests.filter((r) => r.file !== undefined && r.url.includes('/resolve/')).map((r) => r.file ?? '');
}

describe('a cold cache', () => {
  it('downloads the pipeline files into the Python cache layout and resolves the commit', async () => {
    const { commit } = hub.repo(REPO);
    const progress: DownloadProgress[] = [];
    const snapshot = await fetchHubSnapshot(REPO, 'onnx', options({ onProgress: (p) => progress.push(p) }));

    expect(snapshot).toEqual({
      repo: REPO,
      revision: 'onnx',
      commit,
      dir: join(cacheDir, CACHE_REPO, 'snapshots', commit),
      downloadedFiles: 9,
      downloadedBytes: expect.any(Number),
      fromCacheOnly: false,
    });
    expect(await readFile(join(cacheDir, CACHE_REPO, 'refs', 'onnx'), 'utf8')).toBe(commit);
    for (const path of PIPELINE_FILES) {
      const entry = join(snapshot.dir, path);
      expect(await digestOf(entry)).toBe(await fixtureDigest(path));
      expect((await lstat(entry)).isSymbolicLink()).toBe(true);
      // Relative links named by the LFS sha256 (.onnx) or the git blob id, exactly as Python makes them.
      const file = hub.repo(REPO).files.get(path);
      const up = '../'.repeat(path.split('/').length + 1);
      expect(await readlink(entry)).toBe(`${up}blobs/${file?.lfs?.oid ?? file?.oid}`);
    }
    expect(snapshot.downloadedBytes).toBe(PIPELINE_FILES.reduce((sum, p) => sum + (hub.repo(REPO).files.get(p)?.content.length ?? 0), 0));
    expect(await readdir(join(cacheDir, CACHE_REPO, 'blobs'))).toHaveLength(9); // no .incomplete left
    expect(lines[0]).toBe(
      `model: ${REPO}@onnx is commit ${commit}; fetching 9 of 9 pipeline files (12.3 MB) into ${join(cacheDir, CACHE_REPO)}`,
    );
    const last = progress.at(-1);
    expect(last).toMatchObject({ fileIndex: 9, fileCount: 9, bytes: snapshot.downloadedBytes, totalBytes: snapshot.downloadedBytes });
  });

  it('fetches only what the pipeline needs, by commit, after one lookup and one paths-info', async () => {
    const { commit } = hub.repo(REPO);
    await fetchHubSnapshot(REPO, 'onnx', options());
    const [lookup, pathsInfo, ...transfers] = hub.requests;
    expect(lookup?.method).toBe('GET');
    expect(lookup?.url).toMatch(/^\/api\/models\/test-org\/tiny-sd\/revision\/onnx\?.*expand=sha.*expand=siblings/);
    expect(pathsInfo).toMatchObject({ method: 'POST', url: `/api/models/test-org/tiny-sd/paths-info/${commit}` });
    expect(transfers.every((r) => r.url.startsWith(`/${REPO}/resolve/${commit}/`) || r.url.startsWith('/cdn/'))).toBe(true);
    expect([...fileRequests()].sort()).toEqual(PIPELINE_FILES);
    for (const skipped of Object.keys(NOT_NEEDED)) expect(hub.bytesSentFor(skipped)).toBe(0);
  });

  it('prints progress lines with bytes and totals by default', async () => {
    await fetchHubSnapshot(REPO, 'onnx', options());
    const printed = lines.filter((line) => line.startsWith('model: downloading '));
    expect(printed.at(-1)).toBe('model: downloading vae_decoder/model.onnx (9/9) 717.2 kB / 717.2 kB, all files 12.3 MB / 12.3 MB (100%)');
    for (const path of PIPELINE_FILES) expect(printed.some((l) => l.startsWith(`model: downloading ${path} `))).toBe(true);
  });
});

describe('a warm cache', () => {
  it('makes one request, the revision lookup, and downloads nothing', async () => {
    const first = await fetchHubSnapshot(REPO, 'onnx', options());
    hub.clearRequests();
    lines = [];
    const second = await fetchHubSnapshot(REPO, 'onnx', options());
    expect(second).toEqual({ ...first, downloadedFiles: 0, downloadedBytes: 0 });
    expect(hub.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual(['GET /api/models/test-org/tiny-sd/revision/onnx']);
    expect(lines).toEqual([`model: ${REPO}@onnx is commit ${first.commit}; all 9 pipeline files are in the cache`]);
  });

  it('fills in only the files that are missing', async () => {
    const first = await fetchHubSnapshot(REPO, 'onnx', options());
    await rm(join(first.dir, 'tokenizer/vocab.json'));
    await rm(join(cacheDir, CACHE_REPO, 'blobs', hub.repo(REPO).files.get('tokenizer/vocab.json')?.oid ?? ''));
    await rm(join(first.dir, 'unet/model.onnx')); // link gone, blob still there: relinked without a transfer
    hub.clearRequests();
    const second = await fetchHubSnapshot(REPO, 'onnx', options());
    expect(second.downloadedFiles).toBe(2);
    expect(fileRequests()).toEqual(['tokenizer/vocab.json']);
    expect(await digestOf(join(second.dir, 'unet/model.onnx'))).toBe(await fixtureDigest('unet/model.onnx'));
  });

  it('uses the cache with a warning when the Hub cannot be reached', async () => {
    const first = await fetchHubSnapshot(REPO, 'onnx', options());
    lines = [];
    const closedPort = options({ hubUrl: 'http://127.0.0.1:9' });
    const snapshot = await fetchHubSnapshot(REPO, 'onnx', closedPort);
    expect(snapshot).toMatchObject({ commit: first.commit, dir: first.dir, fromCacheOnly: true });
    expect(lines[0]).toMatch(/^model: the Hub at http:\/\/127\.0\.0\.1:9 cannot be reached \(fetch failed.*\); trying the cache$/);
    await expect(fetchHubSnapshot(REPO, 'main', closedPort)).rejects.toThrow(
      /^cannot reach the Hub at http:\/\/127\.0\.0\.1:9 for test-org\/tiny-sd@main: fetch failed/,
    );
  });
});

describe('HF_HUB_OFFLINE', () => {
  it('uses the cache without any request, by branch or by commit', async () => {
    const first = await fetchHubSnapshot(REPO, 'onnx', options());
    hub.clearRequests();
    const byBranch = await fetchHubSnapshot(REPO, 'onnx', options({ offline: true }));
    const byCommit = await fetchHubSnapshot(REPO, first.commit, options({ offline: true }));
    expect(hub.requests).toEqual([]);
    expect(byBranch).toEqual({ ...first, downloadedFiles: 0, downloadedBytes: 0, fromCacheOnly: true });
    expect(byCommit.dir).toBe(first.dir);
    expect(lines.at(-1)).toBe(`model: HF_HUB_OFFLINE is set; using ${REPO}@${first.commit} from the cache, commit ${first.commit}`);
  });

  it('fails clearly, without a request, when the cache does not have the model', async () => {
    await expect(fetchHubSnapshot(REPO, 'onnx', options({ offline: true }))).rejects.toThrow(
      `HF_HUB_OFFLINE is set and ${REPO}@onnx is not in the Hugging Face cache at ${cacheDir} (no refs/onnx under ` +
        `${join(cacheDir, CACHE_REPO)}); start once with network access to download it`,
    );
    await expect(fetchHubSnapshot(REPO, 'a'.repeat(40), options({ offline: true }))).rejects.toThrow(`(no snapshots/${'a'.repeat(40)} under`);
    expect(hub.requests).toEqual([]);
  });
});

describe('what does not exist', () => {
  it('names an unknown revision', async () => {
    await expect(fetchHubSnapshot(REPO, 'fp16', options())).rejects.toThrow(
      /^revision "fp16" does not exist in test-org\/tiny-sd \(Invalid rev id: fp16/,
    );
  });

  it('names an unknown repo and mentions HF_TOKEN', async () => {
    await expect(fetchHubSnapshot('test-org/nothing', 'main', options())).rejects.toThrow(
      /^test-org\/nothing was not found on http:\/\/127\.0\.0\.1:\d+ \(Repository not found.*\); a private or gated repo needs HF_TOKEN$/,
    );
  });

  it('names the pipeline files a revision lacks before downloading anything', async () => {
    await expect(fetchHubSnapshot('test-org/not-onnx', 'main', options())).rejects.toThrow(
      /^test-org\/not-onnx@main \(commit [0-9a-f]{40}\) is not a diffusers ONNX pipeline: it has no scheduler\/scheduler_config\.json, text_encoder\/model\.onnx, unet\/model\.onnx, vae_decoder\/model\.onnx \(ONNX exports often live on another branch, e\.g\. MODEL=<repo>@onnx\)$/,
    );
    expect(fileRequests()).toEqual([]);
  });
});

describe('interrupted downloads', () => {
  const UNET = 'unet/model.onnx';
  const unetSize = () => hub.repo(REPO).files.get(UNET)?.content.length ?? 0;

  // The client may lose the last chunks it had buffered when the connection drops (a failed stream
  // discards its queue), so what is on disk, not what the server sent, is where the resume starts.
  it('resume within the same start, asking only for the rest', async () => {
    hub.cutNextTransfer(UNET, 1_000_000);
    const snapshot = await fetchHubSnapshot(REPO, 'onnx', options());
    expect(await digestOf(join(snapshot.dir, UNET))).toBe(await fixtureDigest(UNET));
    const resumed = lines.map((l) => /^model: download of unet\/model\.onnx stopped at (\d+) of \d+ bytes \(.+\); resuming \(attempt 2 of 3\)$/.exec(l)).find(Boolean);
    const onDisk = Number(resumed?.[1]);
    expect(onDisk).toBeGreaterThan(0);
    expect(onDisk).toBeLessThanOrEqual(1_000_000);
    const unetBodies = hub.requests.filter((r) => r.file === UNET && r.url.startsWith('/cdn/'));
    expect(unetBodies.map((r) => [r.range, r.bodyBytes])).toEqual([
      [undefined, 1_000_000],
      [`bytes=${onDisk}-`, unetSize() - onDisk],
    ]);
  });

  it('resume on the next start from the partial file', async () => {
    hub.cutNextTransfer(UNET, 1_500_000);
    const failure = await fetchHubSnapshot(REPO, 'onnx', options({ attempts: 1 })).catch((error: Error) => error.message);
    const stopped = new RegExp(`^download of unet/model\\.onnx stopped at (\\d+) of ${unetSize()} bytes \\(.+\\); run again to resume$`).exec(String(failure));
    const onDisk = Number(stopped?.[1]);
    expect(onDisk).toBeGreaterThan(0);
    const { commit } = hub.repo(REPO);
    const blob = join(cacheDir, CACHE_REPO, 'blobs', hub.repo(REPO).files.get(UNET)?.lfs?.oid ?? '');
    expect((await stat(`${blob}.incomplete`)).size).toBe(onDisk);
    await expect(lstat(join(cacheDir, CACHE_REPO, 'snapshots', commit, UNET))).rejects.toThrow(/ENOENT/);

    hub.clearRequests();
    const snapshot = await fetchHubSnapshot(REPO, 'onnx', options({ attempts: 1 }));
    expect(hub.requests.find((r) => r.file === UNET && r.url.startsWith('/cdn/'))?.range).toBe(`bytes=${onDisk}-`);
    expect(hub.bytesSentFor(UNET)).toBe(unetSize() - onDisk);
    expect(await digestOf(join(snapshot.dir, UNET))).toBe(await fixtureDigest(UNET));
  });

  it('resume after a stalled connection', async () => {
    hub.stallNextTransfer(UNET, 200_000);
    const snapshot = await fetchHubSnapshot(REPO, 'onnx', options({ stallTimeoutMs: 300 }));
    expect(await digestOf(join(snapshot.dir, UNET))).toBe(await fixtureDigest(UNET));
    expect(lines).toContainEqual(expect.stringMatching(/^model: download of unet\/model\.onnx stopped at \d+ of \d+ bytes \(no data for 300 ms\); resuming/));
  });
});

describe('corrupted downloads', () => {
  it('are rejected by sha256 for LFS files, deleted, and fetched anew on the next start', async () => {
    const UNET = 'unet/model.onnx';
    const sha256 = hub.repo(REPO).files.get(UNET)?.lfs?.oid ?? '';
    hub.corrupt(UNET);
    await expect(fetchHubSnapshot(REPO, 'onnx', options())).rejects.toThrow(
      new RegExp(`^unet/model\\.onnx: the download is corrupt \\(sha256 [0-9a-f]{64} instead of ${sha256}\\); it was deleted, run again to fetch it anew$`),
    );
    const blobs = await readdir(join(cacheDir, CACHE_REPO, 'blobs'));
    expect(blobs.filter((name) => name.startsWith(sha256))).toEqual([]);
    hub.restore(UNET);
    const snapshot = await fetchHubSnapshot(REPO, 'onnx', options());
    expect(await digestOf(join(snapshot.dir, UNET))).toBe(await fixtureDigest(UNET));
  });

  it('are rejected by git blob id for small files', async () => {
    const CONFIG = 'scheduler/scheduler_config.json';
    hub.corrupt(CONFIG);
    try {
      await expect(fetchHubSnapshot(REPO, 'onnx', options())).rejects.toThrow(
        `${CONFIG}: the download is corrupt (git sha1 `,
      );
    } finally {
      hub.restore(CONFIG);
    }
  });
});

describe('tokens', () => {
  const TOKEN = 'hf_testTokenThatMustNotLeak123';
  let privateHub: HubDouble;
  beforeAll(async () => {
    privateHub = await startHubDouble({ repos: [{ id: REPO, dir: 'test/fixtures/tiny-sd', branches: ['onnx'] }], token: TOKEN });
  });
  afterAll(() => privateHub.close());

  it('reach the Hub as a Bearer token and never appear in logs, progress or errors', async () => {
    const seen: string[] = [];
    const run = (token: string | undefined) =>
      fetchHubSnapshot(REPO, 'onnx', {
        ...options({ hubUrl: privateHub.url, token, onProgress: progressPrinter((l) => seen.push(l)) }),
      });
    const refused = await run(undefined).catch((error: Error) => error.message);
    expect(refused).toMatch(/was not found .* a private or gated repo needs HF_TOKEN/);

    privateHub.clearRequests();
    const snapshot = await run(TOKEN);
    expect(snapshot.downloadedFiles).toBe(9);
    const toHub = privateHub.requests.filter((r) => !r.url.startsWith('/cdn/'));
    expect(toHub.length).toBeGreaterThan(2);
    expect(toHub.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    // The CDN is another origin: fetch drops the header on the cross-origin redirect, as for huggingface.co.
    const toCdn = privateHub.requests.filter((r) => r.url.startsWith('/cdn/'));
    expect(toCdn.length).toBeGreaterThan(0);
    expect(toCdn.every((r) => r.authorization === undefined)).toBe(true);
    expect([...lines, ...seen, String(refused)].some((text) => text.includes(TOKEN))).toBe(false);
  });

  it('must look like a Hugging Face token', async () => {
    await expect(fetchHubSnapshot(REPO, 'onnx', options({ token: 'secret-value' }))).rejects.toThrow(
      'HF_TOKEN must be a Hugging Face access token (they start with "hf_")',
    );
    expect(hub.requests).toEqual([]);
  });
});

describe('sharing the cache', () => {
  it("reuses a snapshot written by @huggingface/hub's own snapshotDownload, with one request", async () => {
    const { snapshotDownload } = await import('@huggingface/hub');
    const quiet = console.debug;
    console.debug = () => {}; // the library announces every file it downloads
    try {
      await snapshotDownload({ repo: REPO, revision: 'onnx', cacheDir, hubUrl: hub.url });
    } finally {
      console.debug = quiet;
    }
    hub.clearRequests();
    const snapshot = await fetchHubSnapshot(REPO, 'onnx', options());
    expect(snapshot.downloadedFiles).toBe(0);
    expect(hub.requests).toHaveLength(1);
    // Same blob names and link targets as our own downloader writes (the Python layout).
    const unet = hub.repo(REPO).files.get('unet/model.onnx');
    expect(await readlink(join(snapshot.dir, 'unet/model.onnx'))).toBe(`../../../blobs/${unet?.lfs?.oid}`);
  });

  it('reuses blobs of another revision and a partial Python-style .incomplete file', async () => {
    const { commit } = hub.repo(REPO);
    const blobs = join(cacheDir, CACHE_REPO, 'blobs');
    const vocab = hub.repo(REPO).files.get('tokenizer/vocab.json');
    await fetchHubSnapshot(REPO, 'onnx', options());
    // Another revision's snapshot pointing at the same blobs: nothing to transfer.
    await rm(join(cacheDir, CACHE_REPO, 'snapshots', commit), { recursive: true });
    await rm(join(blobs, vocab?.oid ?? ''));
    await writeFile(join(blobs, `${vocab?.oid}.incomplete`), vocab?.content.subarray(0, 500_000) ?? '');
    hub.clearRequests();
    const snapshot = await fetchHubSnapshot(REPO, 'main', options());
    expect(fileRequests()).toEqual(['tokenizer/vocab.json']);
    expect(hub.bytesSentFor('tokenizer/vocab.json')).toBe((vocab?.content.length ?? 0) - 500_000);
    expect(await digestOf(join(snapshot.dir, 'tokenizer/vocab.json'))).toBe(await fixtureDigest('tokenizer/vocab.json'));
  });
});
