import { readFileSync } from 'node:fs';

/** What the host says of a pid now: undefined when no process has it (or only a zombie), else the process and, when known, its start. */
export type ProcessLookup = (pid: number) => { readonly start?: string } | undefined;

/**
 * The process of `pid` on this host: its start (clock ticks since boot, field 22 of Linux's
 * /proc/<pid>/stat); elsewhere only whether it exists.
 */
export const processOnThisHost: ProcessLookup = (pid) => {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux') return undefined;
    try {
      process.kill(pid, 0);
      return {};
    } catch (killError) {
      return (killError as NodeJS.ErrnoException).code === 'ESRCH' ? undefined : {};
    }
  }
  // After the command's closing parenthesis: state (field 3) … starttime (field 22).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' ? undefined : { start: fields[19] };
};

/** This process's start as `processOnThisHost` reads it; undefined where the host does not say. */
export const ownStart = (): string | undefined => processOnThisHost(process.pid)?.start;

/**
 * The one rule for "the process that had this pid on this host is gone": no process has the pid
 * now, or the one that has it started at another time than the one recorded (the pid was reused,
 * as a container's pid 1 after a restart, or by any process since). Where either start is unknown
 * (an older record, a host without /proc), a live process of the pid counts as that process.
 */
export function processGone(pid: number, start: string | undefined, processOf: ProcessLookup = processOnThisHost): boolean {
  const owner = processOf(pid);
  return owner === undefined || (owner.start !== undefined && start !== undefined && owner.start !== start);
}
