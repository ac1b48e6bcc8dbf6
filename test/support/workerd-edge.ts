// The real edge Worker in a real local workerd, reached over loopback HTTP, for benchmarks and for
// tests that need actual sockets in front of it (raw request bytes, log capture). The Worker is
// bundled exactly as `wrangler deploy` would ship it (`wrangler deploy --dry-run --outdir`), and run
// by miniflare with the bindings wrangler.toml declares (R2, Durable Objects, vars) — only the vars
// given here are changed. Optionally a second Worker runs beside it on the same R2 bucket (same
// miniflare instance, same persistence), e.g. the bench's baseline (bench/support/baseline-worker.js),
// and a twin of the edge with the Cache API turned off (every hit then comes from R2). Each Worker
// gets its own direct socket, so none goes through miniflare's entry worker.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Log, LogLevel, Miniflare, type WorkerOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

const ROOT = join(import.meta.dirname, '../..');
const EDGE = 'dreamurl-edge';

export interface ExtraWorker {
  readonly name: string;
  /** An ES module Worker script (plain JavaScript, no bundling). */
  readonly scriptPath: string;
}

export interface WorkerdEdgeOptions {
  /** Worker vars set on top of wrangler.toml's ([vars]; secrets such as URL_SIGNING_KEY go here too). */
  readonly vars: Readonly<Record<string, string>>;
  /** A Worker to run beside the edge, bound to the same R2 bucket as `IMAGES`. */
  readonly extraWorker?: ExtraWorker;
  /** Also run the same edge with the Cache API off (miniflare `cache: false`), on the same R2 bucket. */
  readonly cacheOffTwin?: boolean;
  /** Every line workerd writes (the Workers' console output and its own messages). */
  readonly onLog?: (line: string) => void;
}

export interface WorkerdEdge {
  /** `http://127.0.0.1:<port>`: the edge Worker's own socket. */
  readonly url: string;
  /** The extra Worker's socket, when one was asked for. */
  readonly extraUrl: string | undefined;
  /** The cache-off twin's socket, when one was asked for. */
  readonly cacheOffUrl: string | undefined;
  close(): Promise<void>;
}

/** Bundles edge/worker.ts as `wrangler deploy` would; returns the folder with worker.js. */
export async function bundleEdgeWorker(outdir: string): Promise<string> {
  const wrangler = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
  const child = spawn(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (${code}):\n${output}`);
  return join(outdir, 'worker.js');
}

export async function startWorkerdEdge(options: WorkerdEdgeOptions): Promise<WorkerdEdge> {
  const scratch = await mkdtemp(join(tmpdir(), 'dreamurl-workerd-'));
  const scriptPath = await bundleEdgeWorker(join(scratch, 'bundle'));
  const fromToml = unstable_getMiniflareWorkerOptions(join(ROOT, 'wrangler.toml')).workerOptions;
  const socket = [{ host: '127.0.0.1', port: 0 }];
  const edge = {
    ...fromToml,
    name: EDGE,
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    bindings: { ...fromToml.bindings, ...options.vars },
    unsafeDirectSockets: socket,
  } as WorkerOptions;
  const workers: WorkerOptions[] = [edge];
  if (options.cacheOffTwin === true) workers.push({ ...edge, name: `${EDGE}-cache-off`, cache: false } as WorkerOptions);
  if (options.extraWorker !== undefined) {
    workers.push({
      name: options.extraWorker.name,
      modules: true,
      scriptPath: resolve(ROOT, options.extraWorker.scriptPath),
      modulesRoot: dirname(resolve(ROOT, options.extraWorker.scriptPath)),
      compatibilityDate: fromToml.compatibilityDate,
      r2Buckets: fromToml.r2Buckets,
      unsafeDirectSockets: socket,
    } as WorkerOptions);
  }
  const onLog = options.onLog;
  const mf = new Miniflare({
    workers,
    defaultPersistRoot: join(scratch, 'state'),
    log: new Log(LogLevel.WARN),
    cf: false, // no network here: do not fetch the real `request.cf` object
    ...(onLog === undefined ? {} : { handleRuntimeStdio: (stdout: Readable, stderr: Readable) => forwardLines([stdout, stderr], onLog) }),
  });
  try {
    await mf.ready;
    const url = (await mf.unsafeGetDirectURL(EDGE)).origin;
    const extraUrl = options.extraWorker === undefined ? undefined : (await mf.unsafeGetDirectURL(options.extraWorker.name)).origin;
    const cacheOffUrl = options.cacheOffTwin === true ? (await mf.unsafeGetDirectURL(`${EDGE}-cache-off`)).origin : undefined;
    return {
      url,
      extraUrl,
      cacheOffUrl,
      async close() {
        await mf.dispose();
        await rm(scratch, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await mf.dispose().catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
}

function forwardLines(streams: readonly Readable[], onLog: (line: string) => void): void {
  for (const stream of streams) createInterface({ input: stream }).on('line', onLog);
}
