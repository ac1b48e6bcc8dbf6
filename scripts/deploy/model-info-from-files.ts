// What a GPU function started with `MODEL=<spec>` and no generation settings in its environment will
// answer on `GET /v1/model`, worked out without loading the model: for `npm run deploy --model`, when
// the GPU function is not running yet (a scale-to-zero endpoint, a first deploy).
//   Hub repo `org/name[@revision]`: the revision's commit sha and file list (GET /api/models/…/revision/…,
//     @huggingface/hub's modelInfo, as the GPU function's own download starts), then two small files at
//     that commit — scheduler/scheduler_config.json and, when the repo has one, dreamurl.json. No weights.
//   Local folder: its fingerprint (`local-<hex>`), read as the GPU function reads it.
// Then the same steps as gpu-function/server/load-model.ts: built-in settings, beneath them the family's
// (SDXL, SDXL-Turbo: family-profile.ts — told by text_encoder_2/ and the scheduler config, as a folder
// is), the model's dreamurl.json on top, the model's own scheduler when none is configured, checked by
// GenerationParams.
import { modelInfo } from '@huggingface/hub';
import type { ModelInfo } from '../../contract';
import { configFromEnv, settingsForModel } from '../../gpu-function/config';
import { type ModelFamilyName, modelFamilyOf, profileForFamily } from '../../gpu-function/model/family-profile';
import { hubError } from '../../gpu-function/model/hub-download';
import type { HubSettings } from '../../gpu-function/model/hub-settings';
import { localFingerprint } from '../../gpu-function/model/local-fingerprint';
import { readModelFolder } from '../../gpu-function/model/model-folder';
import { MODEL_PROFILE_FILE, type ModelProfile, parseModelProfile, readModelProfile } from '../../gpu-function/model/model-profile';
import { parseModelSpec } from '../../gpu-function/model/model-spec';
import { REQUIRED_FILES, SDXL_FILES } from '../../gpu-function/model/pipeline-files';
import { defaultSchedulerName, type RawSchedulerConfig } from '../../gpu-function/pipeline/schedulers';
import { GenerationParams } from '../../gpu-function/server/generation-params';

const COMMIT_SHA = /^[0-9a-f]{40}$/;

interface ModelFiles {
  readonly id: string;
  readonly revision: string;
  readonly family: ModelFamilyName;
  readonly schedulerConfig: RawSchedulerConfig;
  /** The folder's dreamurl.json ({} without one). */
  readonly profile: ModelProfile;
}

/** `provider`: where that GPU function runs (its built-in cost limits are the provider's). */
export async function modelInfoFromFiles(
  spec: string,
  hub: Pick<HubSettings, 'hubUrl' | 'token'>,
  provider: 'cuda' | 'cpu',
): Promise<ModelInfo> {
  const parsed = parseModelSpec(spec);
  const files = parsed.kind === 'local' ? await localFiles(parsed.path) : await hubFiles(parsed.repo, parsed.revision, hub);
  // The GPU function's built-in settings: what it serves with no DEFAULT_* / *_SIDE / MAX_STEPS set.
  const profile = profileForFamily(files.family, files.profile);
  const { defaults, limits } = settingsForModel(configFromEnv({}), profile, provider);
  const scheduler = defaults.scheduler ?? defaultSchedulerName(files.schedulerConfig);
  const params = new GenerationParams({ ...defaults, scheduler }, limits, files.schedulerConfig);
  return params.modelInfo({ id: files.id, revision: files.revision, model: `${files.id}@${files.revision}` });
}

async function localFiles(path: string): Promise<ModelFiles> {
  const folder = await readModelFolder(path);
  const { id, revision } = await localFingerprint(folder.dir);
  const profile = await readModelProfile(folder.dir);
  return { id, revision, family: modelFamilyOf(folder), schedulerConfig: folder.schedulerConfig, profile };
}

async function hubFiles(repo: string, revision: string, hub: Pick<HubSettings, 'hubUrl' | 'token'>): Promise<ModelFiles> {
  const credentials = { hubUrl: hub.hubUrl, ...(hub.token === undefined ? {} : { accessToken: hub.token }) };
  let info: { sha: string; filePaths: string[] };
  try {
    info = await modelInfo({ name: repo, revision, additionalFields: ['sha', 'filePaths'], ...credentials });
  } catch (error) {
    throw hubError(error, repo, revision, hub.hubUrl);
  }
  const commit = info.sha;
  if (!COMMIT_SHA.test(commit)) throw new Error(`the Hub gave "${commit}" as the commit of ${repo}@${revision}`);
  const absent = Object.values(REQUIRED_FILES).filter((file) => !info.filePaths.includes(file));
  if (absent.length > 0) {
    throw new Error(`${repo}@${revision} (commit ${commit}) is not a diffusers ONNX pipeline: it has no ${absent.join(', ')}`);
  }
  const read = (path: string) => readHubFile(repo, commit, path, hub);
  const schedulerText = await read(REQUIRED_FILES.schedulerConfig);
  const profileText = info.filePaths.includes(MODEL_PROFILE_FILE) ? await read(MODEL_PROFILE_FILE) : undefined;
  const schedulerConfig = JSON.parse(schedulerText) as RawSchedulerConfig;
  const sdxl = info.filePaths.includes(SDXL_FILES.textEncoder2) ? SDXL_FILES : undefined;
  return {
    id: repo,
    revision: commit,
    family: modelFamilyOf({ sdxl, schedulerConfig }),
    schedulerConfig,
    profile: profileText === undefined ? {} : parseModelProfile(profileText, `${repo}@${commit}/${MODEL_PROFILE_FILE}`),
  };
}

/** A small (non-LFS) file by commit, so a branch that moves meanwhile cannot mix two versions. */
async function readHubFile(repo: string, commit: string, path: string, hub: Pick<HubSettings, 'hubUrl' | 'token'>): Promise<string> {
  const url = `${hub.hubUrl}/${repo}/resolve/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
  const response = await fetch(url, { headers: hub.token === undefined ? {} : { Authorization: `Bearer ${hub.token}` } });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.text();
}
