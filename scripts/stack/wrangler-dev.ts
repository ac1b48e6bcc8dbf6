// The edge as a child process of the local stack: `wrangler dev` (the Worker in workerd, with local
// R2, Cache API and Durable Objects), started from wrangler's own CLI file rather than through npm or
// its bin wrapper, so our signals reach it directly. Plain settings go in as `--var NAME:value`;
// secrets in a temporary env file (secrets-file.ts), which wrangler shows as "(hidden)". Because an
// env file is given, wrangler does not read `.dev.vars`: the stack's settings are exactly these.
import { createRequire } from 'node:module';
import { stripVTControlCharacters } from 'node:util';
import { ManagedProcess, type ExitStatus, type OutputStream } from './child-process';
import { writeSecretsFile } from './secrets-file';
import { STACK_ROOT } from './stack-root';
import { tryFetch, waitUntil } from './wait-until';

export interface WranglerDevOptions {
  readonly host: string;
  /** 0: a free port (wrangler reports it in its "Ready on" line). */
  readonly port: number;
  /** Worker vars, on top of wrangler.toml's [vars]. */
  readonly vars: Readonly<Record<string, string>>;
  /** Worker secrets (GPU_FUNCTION_TOKEN, URL_SIGNING_KEY, API_KEYS). */
  readonly secrets: Readonly<Record<string, string>>;
  /** Folder of the local R2 bucket, Cache and Durable Objects. @default wrangler's `.wrangler/state` */
  readonly persistTo?: string;
  /** The DevTools inspector port; 0 picks a free one. @default wrangler's (9229) */
  readonly inspectorPort?: number;
  /** The environment wrangler runs in (PATH, HOME, CLOUDFLARE_*); Worker settings never come from it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly onLine?: (line: string, stream: OutputStream) => void;
}

export interface WranglerDev {
  readonly process: ManagedProcess;
  /**
   * Resolves with its URL (e.g. http://127.0.0.1:8787) once the Worker answers with its configuration
   * accepted; rejects (and stops wrangler) when it exits first or refuses a setting.
   */
  ready(): Promise<string>;
  /** SIGTERM, then SIGKILL to anything of its process group still there (its workerd processes). */
  stop(graceMs?: number): Promise<ExitStatus>;
  /** SIGKILL to its process group and the secrets file removed, synchronously (for a process 'exit' handler). */
  forceStop(): void;
}

const WRANGLER_CLI = createRequire(import.meta.url).resolve('wrangler');
/** A stored picture that cannot exist: 404 from a Worker that accepted its configuration. */
export const READINESS_PROBE_PATH = `/v1/images/${'0'.repeat(64)}.png`;
const READY = /Ready on (https?:\/\/\S+)/;

/** Starts wrangler dev. Returns at once; `ready()` tells when it serves. */
export function spawnWranglerDev(options: WranglerDevOptions): WranglerDev {
  const secrets = writeSecretsFile(options.secrets);
  let readyUrl: string | undefined;
  const args = [
    // What wrangler's bin wrapper adds (node_modules/wrangler/bin/wrangler.js).
    '--no-warnings',
    '--experimental-vm-modules',
    WRANGLER_CLI,
    'dev',
    '--ip',
    options.host,
    '--port',
    String(options.port),
    '--env-file',
    secrets.path,
    '--show-interactive-dev-session=false',
    ...(options.persistTo === undefined ? [] : ['--persist-to', options.persistTo]),
    ...(options.inspectorPort === undefined ? [] : ['--inspector-port', String(options.inspectorPort)]),
    ...Object.entries(options.vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ];
  let child: ManagedProcess;
  try {
    child = new ManagedProcess({
      name: 'wrangler dev',
      command: process.execPath,
      args,
      cwd: STACK_ROOT,
      env: {
        // The edge never reads request.cf; without this, every start fetches it from
        // workers.cloudflare.com (and prints a stack trace when offline).
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        ...options.env,
        // Would turn every environment variable into a Worker secret.
        CLOUDFLARE_INCLUDE_PROCESS_ENV: undefined,
      },
      onLine(line, stream) {
        readyUrl ??= READY.exec(stripVTControlCharacters(line))?.[1];
        options.onLine?.(line, stream);
      },
    });
  } catch (error) {
    secrets.remove();
    throw error;
  }
  void child.exited.then(() => secrets.remove());

  const stop = async (graceMs = 10_000): Promise<ExitStatus> => {
    const status = await child.stop({ signal: 'SIGTERM', graceMs });
    child.killGroup(); // anything wrangler left behind
    secrets.remove();
    return status;
  };
  return {
    process: child,
    async ready() {
      try {
        const url = await waitUntil(async () => readyUrl, { what: 'wrangler dev', exited: child.exited, intervalMs: 50 });
        await waitForWorker(url, child.exited);
        return url;
      } catch (error) {
        await stop(2_000);
        throw error;
      }
    },
    stop,
    forceStop() {
      child.killGroup();
      secrets.remove();
    },
  };
}

/**
 * Any request makes the Worker parse its configuration; a stored-picture lookup of a key that cannot
 * exist answers 404 when it is fine and 500 when a setting was refused (the log names it).
 */
async function waitForWorker(url: string, exited: Promise<ExitStatus>): Promise<void> {
  const probe = `${url}${READINESS_PROBE_PATH}`;
  const status = await waitUntil(async () => (await tryFetch(probe))?.status, { what: 'wrangler dev', exited });
  if (status !== 404) {
    throw new Error(`the edge answered ${status} to ${probe} (expected 404); its log above says which setting it refused`);
  }
}
