/**
 * yargs' words for a command line it cannot use, said so a person knows what to type:
 * `Did you mean backfill?` names no problem, `Unknown argument: stream` hides that it was
 * `--stream`, and `Missing required arguments: start, end` names no option as typed.
 * `args` is the command line as typed (without `node cli.js`).
 */
export function usageMessage(message: string, args: readonly string[]): string {
  const recommended = /^Did you mean (.+)\?$/.exec(message);
  if (recommended) return `unknown command; did you mean ${recommended[1]}? (--help lists the commands)`;
  const missing = /^Missing required arguments?: (.+)$/.exec(message);
  if (missing)
    return `give ${missing[1]!
      .split(', ')
      .map((name) => `--${name}`)
      .join(' and ')} (--help says what each takes)`;
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (!unknown) return message;
  const names = unknown[1]!.split(', ').map((name) => {
    if (args.some((a) => a === `--${name}` || a.startsWith(`--${name}=`))) return `--${name}`;
    if (args.includes(`-${name}`)) return `-${name}`;
    return JSON.stringify(name);
  });
  return `unknown ${names.length === 1 ? 'argument' : 'arguments'} ${names.join(', ')} (--help lists the commands and options)`;
}
