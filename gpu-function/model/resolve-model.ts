// From `MODEL` to a model the pipeline can load: a Hub repo is brought into the Hugging Face cache (or
// found there), a local folder is read in place; either way the result is the folder's description
// plus the identity pictures are keyed by: id and revision (Hub: repo id and commit sha; local: folder
// name and `local-<fingerprint>`), joined as `<id>@<revision>` in the `X-Model` header.
import { fetchHubSnapshot, type HubDownloadOptions } from './hub-download';
import { localFingerprint } from './local-fingerprint';
import { readModelFolder, type ModelFolder } from './model-folder';
import { parseModelSpec, type ModelSpec } from './model-spec';

export type ResolveModelOptions = HubDownloadOptions & {
  /** Folder that a relative MODEL path is resolved against. @default process.cwd() */
  readonly cwd?: string;
};

export interface ResolvedModel extends ModelFolder {
  readonly source: 'hub' | 'local';
  /** Hub repo id, or the folder's name. */
  readonly id: string;
  /** Hub commit sha, or `local-<12 hex>` (local-fingerprint.ts). */
  readonly revision: string;
  /** `<id>@<revision>`. */
  readonly model: string;
}

export async function resolveModel(spec: string | ModelSpec, options: ResolveModelOptions): Promise<ResolvedModel> {
  const parsed = typeof spec === 'string' ? parseModelSpec(spec, options.cwd === undefined ? {} : { cwd: options.cwd }) : spec;
  if (parsed.kind === 'local') {
    const folder = await readModelFolder(parsed.path);
    const { id, revision } = await localFingerprint(folder.dir);
    options.log(`model: local folder ${folder.dir} is ${id}@${revision}`);
    return Object.freeze({ ...folder, source: 'local', id, revision, model: `${id}@${revision}` });
  }
  const snapshot = await fetchHubSnapshot(parsed.repo, parsed.revision, options);
  const folder = await readModelFolder(snapshot.dir);
  const model = `${parsed.repo}@${snapshot.commit}`;
  return Object.freeze({ ...folder, source: 'hub', id: parsed.repo, revision: snapshot.commit, model });
}
