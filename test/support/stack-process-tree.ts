// Which processes a process started, read from Linux's /proc (CI and this machine are Linux): so a test
// can check that `npm start` leaves nothing running behind — its children, and theirs (workerd).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Single-letter state from /proc/<pid>/stat; Z is a zombie (exited, not yet reaped). */
  readonly state: string;
  /** The command line, arguments joined by spaces. */
  readonly command: string;
}

/** Every live process that descends from `rootPid` (not `rootPid` itself). */
export function descendantsOf(rootPid: number): ProcessInfo[] {
  const all = listProcesses();
  const found: ProcessInfo[] = [];
  const parents = [rootPid];
  while (parents.length > 0) {
    const parent = parents.pop()!;
    for (const child of all.filter((p) => p.ppid === parent)) {
      found.push(child);
      parents.push(child.pid);
    }
  }
  return found;
}

/** False once the process has exited (a zombie counts as exited). */
export function isRunning(pid: number): boolean {
  const info = readProcess(pid);
  return info !== undefined && info.state !== 'Z';
}

/** The environment a process was started with (`/proc/<pid>/environ`). */
export function environmentOf(pid: number): Record<string, string> {
  const text = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    text
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

function listProcesses(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => readProcess(Number(name)) ?? []);
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …"; comm may contain spaces and parentheses, so split after the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(ppid), state: state ?? '?', command };
  } catch {
    return undefined; // gone meanwhile
  }
}
