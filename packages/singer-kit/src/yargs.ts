import { createRequire } from 'node:module';
import type Yargs from 'yargs';
import type * as YargsHelpers from 'yargs/helpers';
import { UsageError } from './errors.js';

const require = createRequire(import.meta.url);

/**
 * yargs, from its CommonJS build: the ES-module build of yargs 17 wraps help every N characters,
 * breaking words (`[sta` / `rt, end)`), while the CommonJS one wraps between words at the
 * terminal's width (at most 80 columns).
 */
export const yargs = require('yargs') as typeof Yargs;

/** yargs' hideBin from the same CommonJS build: its ES-module helpers load a second copy of yargs' modules (10–16 ms of every start). */
export const hideBin = (require('yargs/helpers') as typeof YargsHelpers).hideBin;

/**
 * yargs' `.fail()` handler of every CLI whose bad arguments are plain usage errors: yargs' own
 * message (unknown option, missing value, bad choice) becomes a UsageError, exit 2; an error a
 * command handler threw passes through unchanged, keeping its own exit code.
 */
export function failWithUsageError(message: string, error: Error | undefined): never {
  throw error ?? new UsageError(message);
}
