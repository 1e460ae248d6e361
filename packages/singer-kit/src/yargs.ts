import { createRequire } from 'node:module';
import type Yargs from 'yargs';

/**
 * yargs, from its CommonJS build: the ES-module build of yargs 17 wraps help every N characters,
 * breaking words (`[sta` / `rt, end)`), while the CommonJS one wraps between words at the
 * terminal's width (at most 80 columns).
 */
export const yargs = createRequire(import.meta.url)('yargs') as typeof Yargs;
