/** Where the demo's PostgreSQL is when the demo ends: the caller's, kept up until Ctrl-C, or stopped with the demo. */
export type DemoServer = 'external' | 'kept' | 'stopped';

const KEEP_RUNNING_COMMAND = 'npm run demo -- --keep-running';

/**
 * How to connect, said before the demo ends: never a URL to a server that is about to stop. A
 * stopped server's port is not the next run's (each run takes a free one), so none is given then.
 */
export function connectAdvice(server: DemoServer, url: string): string {
  if (server === 'stopped')
    return `PostgreSQL stops when the demo ends (no terminal to keep it up for you). To query it afterwards: ${KEEP_RUNNING_COMMAND}, which prints the psql command to connect with (the port changes from run to run)`;
  return `Connect:  psql '${url}'${server === 'kept' ? '   (PostgreSQL stays up until Ctrl-C)' : ''}`;
}

/** The demo's last line about its PostgreSQL. */
export function serverEndLine(server: Exclude<DemoServer, 'external'>, pgDir: string): string {
  return server === 'kept'
    ? 'PostgreSQL and the console stay up for you; press Ctrl-C to stop them.'
    : `PostgreSQL has stopped; its data stays in ${pgDir} for the next demo (${KEEP_RUNNING_COMMAND} keeps it up until Ctrl-C).`;
}

/** The demo's last line: the console's URL, and whether it is still up (it stops with a demo run without a terminal). */
export function consoleLine(up: boolean, url: string): string {
  return up ? `Console: ${url}` : `Console: ${url} (it stopped with the demo; ${KEEP_RUNNING_COMMAND} keeps it up until Ctrl-C)`;
}
