import { createRequire } from 'node:module';
import type Yargs from 'yargs';
import type { Argv } from 'yargs';
import type * as YargsHelpers from 'yargs/helpers';
import { UsageError } from './errors.js';

const require = createRequire(import.meta.url);

/**
 * yargs, from its CommonJS build: the ES-module build of yargs 17 wraps help every N characters,
 * breaking words (`[sta` / `rt, end)`), while the CommonJS one wraps between words at the
 * terminal's width (at most 80 columns).
 */
const yargs = require('yargs') as typeof Yargs;

/** yargs' helpers from the same CommonJS build: its ES-module helpers load a second copy of yargs' modules (10–16 ms of every start). */
const helpers = require('yargs/helpers') as typeof YargsHelpers;
export const hideBin = helpers.hideBin;

/**
 * yargs' `.fail()` handler of every CLI whose bad arguments are plain usage errors: yargs' own
 * message (unknown option, missing value, bad choice) becomes a UsageError, exit 2; an error a
 * command handler threw passes through unchanged, keeping its own exit code.
 */
function failWithUsageError(message: string, error: Error | undefined): never {
  throw error ?? new UsageError(message);
}

/** The part of yargs' table of the options in force (`getOptions()`, missing from @types/yargs) read here. */
interface OptionTable {
  readonly key: Record<string, boolean>;
  readonly alias: Record<string, string[]>;
  readonly boolean: string[];
  readonly count: string[];
  readonly string: string[];
  readonly number: string[];
  readonly array: string[];
  readonly choices: Record<string, unknown>;
}

const typed = (key: string) => (key.length === 1 ? `-${key}` : `--${key}`);

/**
 * Refuses (UsageError) an option that takes a value (string, number, array or choices) given
 * without one, with an empty one, with a number option's value not a number, or a single-value
 * option given twice. yargs itself reads `--config` with nothing after it (or followed by another
 * option) as '' or as absent, so its default silently applies; `--port abc` as NaN; `--port ''` as
 * 0; `--config a --config b` as an array. `args` are the ones yargs parses; the options are the
 * ones of the command being run. yargs' own parser reads `args` again with every such option
 * taking a value and number options as text.
 */
function requireOptionValues(args: readonly string[], y: Argv): void {
  const table = (y as unknown as { getOptions(): OptionTable }).getOptions();
  const flags = new Set([...table.boolean, ...table.count]);
  const valued = [...new Set([...table.string, ...table.number, ...table.array, ...Object.keys(table.choices)])].filter((k) => !flags.has(k));
  // `key` (as yargs passes it; not in @types/yargs-parser) makes `--dataDir` the same option as `--data-dir`.
  const parsed = helpers.Parser.detailed([...args], {
    ...({ key: table.key } as object),
    alias: table.alias,
    boolean: [...flags],
    array: table.array,
    string: valued,
    narg: Object.fromEntries(valued.map((k) => [k, NaN])),
    configuration: { 'duplicate-arguments-array': true },
  });
  const missing = /^Not enough arguments following: (.+)$/.exec(parsed.error?.message ?? '');
  if (missing) throw new UsageError(`${typed(missing[1]!)} needs a value`);
  if (parsed.error) throw new UsageError(parsed.error.message);
  const numbers = new Set(table.number);
  for (const key of valued) {
    const value: unknown = parsed.argv[key];
    if (value === undefined) continue;
    if (Array.isArray(value) && !table.array.includes(key)) throw new UsageError(`${typed(key)} is given ${value.length} times; give it once`);
    for (const text of [value].flat() as string[]) {
      if (text.trim() === '') throw new UsageError(`${typed(key)} needs a value, not an empty one`);
      if (numbers.has(key) && !Number.isFinite(Number(text))) throw new UsageError(`${typed(key)} needs a number, got ${JSON.stringify(text)}`);
    }
  }
}

/**
 * yargs over `args`, with the rules every CLI of this repository follows: an unknown option is
 * refused (`strict`), every option that takes a value gets one (`requireOptionValues`), and
 * yargs' own complaints are UsageErrors (exit 2). A CLI may replace `.fail()` to reword them.
 */
export function cliYargs(args: readonly string[]): Argv {
  const y = yargs([...args]);
  return y
    .strict()
    .middleware(() => requireOptionValues(args, y), true)
    .fail(failWithUsageError);
}
