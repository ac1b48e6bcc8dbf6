// The revision of a local model folder: `local-<12 hex>`, so a picture's content key changes when the
// folder's model changes, just as a Hub model's key carries its commit sha. Cheap by design (a model
// is gigabytes; startup must not read them all):
//
//   sha256 over the pipeline's files (pipeline-files.ts) in sorted path order, each contributing
//     "<path>\0<size>\0" followed by
//       - the whole file for .json and .txt files (configs, tokenizer vocab/merges: a few MB at most),
//       - four 64 KiB samples for anything else (graphs, external weights), at offsets 0, ⅓, ⅔ and the
//         end; a file of 256 KiB or less is read whole.
//
// Sizes alone would miss a fine-tune of the same architecture (same sizes, other weights); samples from
// the middle of every weight file catch it while reading ~1 MB for a whole SD model. Modification times
// are left out on purpose: copying the folder into an image must not change the revision the edge pins.
import { createHash, type Hash } from 'node:crypto';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { isPipelineFile, PIPELINE_FOLDERS, REQUIRED_FILES } from './pipeline-files';

export const SAMPLE_BYTES = 64 * 1024;
const SAMPLES = 4;

export interface LocalFingerprint {
  /** The folder's name, the model id a local model is known by. */
  readonly id: string;
  /** `local-` + the first 12 hex digits of the sha256. */
  readonly revision: string;
  /** Relative paths that went into it, sorted. */
  readonly files: readonly string[];
}

export async function localFingerprint(folder: string): Promise<LocalFingerprint> {
  const dir = resolve(folder);
  // Only the pipeline's folders are walked: a git clone's .git or a safety_checker/ is never listed.
  const candidates: string[] = (await isFile(join(dir, REQUIRED_FILES.modelIndex))) ? [REQUIRED_FILES.modelIndex] : [];
  for (const folder of PIPELINE_FOLDERS) candidates.push(...(await listFiles(dir, folder)));
  const files = candidates.filter(isPipelineFile).sort();
  const hash = createHash('sha256');
  for (const file of files) {
    const path = join(dir, file);
    const { size } = await stat(path);
    hash.update(`${file}\0${size}\0`);
    if (/\.(json|txt)$/i.test(file)) hash.update(await readFile(path));
    else await hashSamples(hash, path, size);
  }
  return Object.freeze({ id: basename(dir), revision: `local-${hash.digest('hex').slice(0, 12)}`, files });
}

async function hashSamples(hash: Hash, path: string, size: number): Promise<void> {
  const handle = await open(path, 'r');
  try {
    if (size <= SAMPLES * SAMPLE_BYTES) {
      hash.update(await handle.readFile());
      return;
    }
    const last = size - SAMPLE_BYTES;
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    for (let k = 0; k < SAMPLES; k++) {
      const offset = Math.floor((last * k) / (SAMPLES - 1));
      const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, offset);
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((info) => info.isFile(), () => false);
}

/** Files under `dir`, following symlinks (fixtures and Hub snapshots are made of them), as `/` paths. */
async function listFiles(dir: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  const names = await readdir(join(dir, prefix)).catch(() => [] as string[]); // a missing folder lists nothing
  for (const name of names) {
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    const info = await stat(join(dir, relative)).catch(() => undefined); // a dangling link is skipped
    if (info?.isDirectory()) out.push(...(await listFiles(dir, relative)));
    else if (info?.isFile()) out.push(relative);
  }
  return out;
}
