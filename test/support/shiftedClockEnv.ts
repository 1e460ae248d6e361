import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './db.js';

const SHIFT_CLOCK = pathToFileURL(path.join(REPO_ROOT, 'test/support/shiftClock.mjs')).href;

/**
 * Variables that put a process started with them, and its children, on a clock `offsetMs` later
 * than the real one (shiftClock.mjs, loaded through NODE_OPTIONS): the emulator's clock, or time
 * passed without waiting for it.
 */
export const shiftedClockEnv = (offsetMs: number): NodeJS.ProcessEnv => ({
  NODE_OPTIONS: `--import=${SHIFT_CLOCK}`,
  QBO_TEST_CLOCK_OFFSET_MS: String(offsetMs),
});
