/**
 * Whether PostgreSQL's log says it stopped because another process holds its port: no TCP socket
 * could be created, and a listen address failed with EADDRINUSE. Another port cures that; a bind
 * failure of any other kind alone (an address this machine lacks, a port it may not use) is not
 * cured by another port and is not recognised.
 */
export function portTakenIn(log: string): boolean {
  return /\bFATAL:\s+could not create any TCP\/IP sockets$/m.test(log) && /\bLOG:\s+could not bind IPv[46] address "[^"]*": Address already in use$/m.test(log);
}
