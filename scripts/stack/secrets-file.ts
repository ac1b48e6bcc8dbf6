// Secrets for `wrangler dev`, handed over in a temporary `--env-file` instead of `--var`: wrangler
// loads an env file's entries as secret bindings and shows them as "(hidden)" in its bindings table,
// and a file keeps them out of the process list (`ps` shows every `--var`). The folder is private
// (0700, file 0600) and removed when the edge stops.
//
// wrangler reads the file with dotenv and then dotenv-expand (wrangler-dist/cli.js, loadDotEnv), so a
// value is written quoted (dotenv keeps quoted text verbatim) with every `$` escaped as `\$`
// (dotenv-expand would otherwise substitute `$NAME`; it turns `\$` back into `$`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NAME = /^[A-Z_][A-Z0-9_]*$/;
const QUOTES = ["'", '`', '"'] as const;

/** One `NAME='value'` line that dotenv + dotenv-expand read back as exactly `value`. */
export function envFileLine(name: string, value: string): string {
  if (!NAME.test(name)) throw new Error(`${name} is not a variable name`);
  if (/[\r\n]/.test(value)) throw new Error(`${name} must be a single line`);
  // Double quotes come last: inside them dotenv turns the two characters `\n` into a line break.
  const quote = QUOTES.find((q) => !value.includes(q) && !(q === '"' && /\\[nr]/.test(value)));
  if (quote === undefined) throw new Error(`${name} cannot contain all of ' \` and " at once`);
  return `${name}=${quote}${value.replaceAll('$', '\\$')}${quote}`;
}

export interface SecretsFile {
  readonly path: string;
  /** Deletes the file and its folder (idempotent). */
  remove(): void;
}

export function writeSecretsFile(secrets: Readonly<Record<string, string>>): SecretsFile {
  const dir = mkdtempSync(join(tmpdir(), 'dreamurl-edge-'));
  const path = join(dir, 'secrets.env');
  const text = Object.entries(secrets)
    .map(([name, value]) => envFileLine(name, value))
    .join('\n');
  writeFileSync(path, `${text}\n`, { mode: 0o600 });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
