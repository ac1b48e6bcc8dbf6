// The repository root: the working directory of both children (wrangler.toml lives there, and a
// relative MODEL is read from there, as `npm run start:gpu` would).
import { join } from 'node:path';

export const STACK_ROOT = join(import.meta.dirname, '../..');
