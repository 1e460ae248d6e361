import { parseStateText, readUserFile, UsageError } from 'singer-kit';

/**
 * The state value given with `--state FILE`, and the file's text: the tap carries what it does not
 * own forward as that text, digit for digit. A state log (every line the target printed, e.g.
 * `state.jsonl`) is refused with the fix, rather than read as broken JSON or as no state.
 * An empty file is no state (`undefined`): what `tail -n 1 state.jsonl` gives when a run was
 * stopped before the target committed anything, so resuming it starts at `start_date`.
 */
export function readStateArgument(file: string): { readonly value: Record<string, unknown>; readonly text: string } | undefined {
  const text = readUserFile(file, (reason) => `cannot read --state ${file}: ${reason}`);
  if (text.trim() === '') return undefined;
  const parsed = parseStateText(text);
  if (parsed.kind === 'log') {
    throw new UsageError(
      `--state ${file} holds ${parsed.lines} lines, a log of states; pass only its last line: tail -n 1 ${file} > last-state.json, then --state last-state.json`,
    );
  }
  if (parsed.kind === 'invalid') throw new UsageError(`--state ${file} is not valid JSON: ${parsed.error}`);
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(`--state ${file} must hold a JSON object (a Singer state value such as {"bookmarks": {…}})`);
  return { value: value as Record<string, unknown>, text };
}
