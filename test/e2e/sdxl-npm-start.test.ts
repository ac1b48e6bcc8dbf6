// `MODEL=test/fixtures/tiny-sdxl npm start`: the whole stack on the tiny SDXL export (optimum's
// layout). The edge's profile follows the GPU function's GET /v1/model (SDXL family defaults under
// the fixture's dreamurl.json), and a picture asked for through the edge with a reference request's
// parameters has diffusers' StableDiffusionXLPipeline pixels (tiny-sdxl-refs).
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePng } from '../support/decode-png';
import { comparePixels, readReferenceManifest } from '../support/reference-pictures';
import { fetchAnswer, imageUrl } from '../support/stack-http';
import { ROOT } from '../support/stack-processes';
import { runStartScript, startScriptEnv, type StartScript } from '../support/stack-start-script';

const OPEN_LINE = /^dreamurl: open (http:\/\/127\.0\.0\.1:\d+)\/ in a browser/;
const REFS = join(ROOT, 'test/fixtures/tiny-sdxl-refs');

const scratch = mkdtempSync(join(tmpdir(), 'dreamurl-sdxl-start-'));
let running: StartScript | undefined;

afterAll(async () => {
  if (running !== undefined && running.child.exitCode === null) {
    running.child.kill('SIGTERM');
    await running.exited;
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe('npm start with an SDXL model', () => {
  it('MODEL=test/fixtures/tiny-sdxl serves diffusers-exact pictures through the edge', async () => {
    const { env } = startScriptEnv(scratch, 'tiny-sdxl', { MODEL: 'test/fixtures/tiny-sdxl', HF_HUB_OFFLINE: '1' });
    running = runStartScript(env);
    const [, origin] = (await running.waitForLine(OPEN_LINE)) as [string, string];

    // The model's defaults reached the edge: a bare prompt is 64×64 (dreamurl.json), guidance 5.
    const plain = await fetchAnswer(imageUrl(origin, { prompt: 'a lighthouse at dusk' }));
    expect(plain.status).toBe(200);
    expect(decodePng(plain.bytes)).toMatchObject({ width: 64, height: 64 });

    const [entry] = await readReferenceManifest(REFS);
    const picture = await fetchAnswer(imageUrl(origin, { ...entry!.request }));
    expect(picture.status).toBe(200);
    expect(picture.headers.get('X-Seed')).toBe(String(entry!.request.seed));
    const reference = decodePng(new Uint8Array(await readFile(join(REFS, entry!.png))));
    const difference = comparePixels(decodePng(picture.bytes).rgb, reference.rgb);
    expect(difference.maxDiff).toBeLessThanOrEqual(1);

    running.child.kill('SIGINT');
    expect(await running.exited, running.output.join('\n')).toEqual({ code: 0, signal: null });
  });
});
