/**
 * What JSON.parse found wrong, without the excerpt of the text V8 quotes
 * (`Unexpected token 'A', "AB11…"... is not valid JSON`): a file given by mistake may hold a
 * secret, and the message goes to logs, run records and the console.
 */
export function jsonSyntaxProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const bare = message.replace(/,? ?(?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, '');
  return bare === '' ? 'not valid JSON' : `${bare.charAt(0).toLowerCase()}${bare.slice(1)}`;
}
