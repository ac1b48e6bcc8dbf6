// The demo page ships as edge/demo/page-assets.generated.ts, built from the real sources in
// edge/demo/page/ by `npm run build:demo`. The committed module must be that build of the sources as
// they are (an edited page cannot ship unbuilt), and its script a classic one the page can `defer`.
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { DEMO_PAGE_SCRIPT } from '../../edge/demo/page-assets.generated';
import { demoPageModule, GENERATED } from '../../scripts/build-demo-page';

it('the committed page assets are the build of edge/demo/page/ as it is now', async () => {
  expect(await readFile(GENERATED, 'utf8')).toBe(await demoPageModule());
});

it('bundles demo.ts into one classic script: no import or export left, ASCII only', () => {
  expect(DEMO_PAGE_SCRIPT).not.toMatch(/^\s*(import|export)\b/m);
  expect(DEMO_PAGE_SCRIPT).toMatch(/^"use strict";\n\(\(\) => \{/);
  expect(/^[\x09\x0a\x20-\x7e]*$/.test(DEMO_PAGE_SCRIPT)).toBe(true);
});
