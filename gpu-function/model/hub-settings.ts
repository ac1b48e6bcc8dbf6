// Hugging Face settings from the environment, read once at the process edge (the server's config
// parser calls this) with the names and precedence Python's huggingface_hub uses
// (huggingface_hub/constants.py), so one environment serves both worlds:
//   cache:   HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub
//   token:   HF_TOKEN, else the file `huggingface-cli login` writes ($HF_TOKEN_PATH or $HF_HOME/token)
//   offline: HF_HUB_OFFLINE = 1/ON/YES/TRUE (any case)
//   Hub URL: HF_ENDPOINT (a mirror), else https://huggingface.co
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { unsetIfBlank } from '../../contract';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface HubSettings {
  readonly cacheDir: string;
  /** Never logged. */
  readonly token: string | undefined;
  readonly offline: boolean;
  readonly hubUrl: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

export function hubSettingsFromEnv(env: Environment, home: string = homedir()): HubSettings {
  const cacheHome = unsetIfBlank(env.XDG_CACHE_HOME) ?? join(home, '.cache');
  const hfHome = unsetIfBlank(env.HF_HOME) ?? join(cacheHome, 'huggingface');
  const cacheDir = unsetIfBlank(env.HF_HUB_CACHE) ?? unsetIfBlank(env.HUGGINGFACE_HUB_CACHE) ?? join(hfHome, 'hub');
  const token =
    unsetIfBlank(env.HF_TOKEN) ??
    unsetIfBlank(env.HUGGING_FACE_HUB_TOKEN) ??
    readTokenFile(unsetIfBlank(env.HF_TOKEN_PATH) ?? join(hfHome, 'token'));
  return Object.freeze({
    cacheDir,
    token,
    offline: isTrue(env.HF_HUB_OFFLINE),
    hubUrl: (unsetIfBlank(env.HF_ENDPOINT) ?? DEFAULT_HUB_URL).replace(/\/+$/, ''),
  });
}

/** huggingface_hub's `_is_true`. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

function readTokenFile(path: string): string | undefined {
  try {
    return unsetIfBlank(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}
