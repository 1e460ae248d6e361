import type { Logger } from 'singer-kit';
import { stateProblem, writeStateText, type StateValue } from './stateFile.js';

/**
 * Receives the target's stdout, one line at a time: each line is a committed state value and
 * replaces the job's state file at once (atomically). A line that is not a usable state is
 * skipped with a warning, as Meltano does, so it can never wipe the bookmarks.
 */
export class StateRecorder {
  readonly #file: string;
  readonly #logger: Logger;
  readonly #onRecorded: (state: StateValue) => void;
  #latest: StateValue | undefined;
  #failure: Error | undefined;

  constructor(file: string, initial: StateValue | undefined, logger: Logger, onRecorded: (state: StateValue) => void) {
    this.#file = file;
    this.#latest = initial;
    this.#logger = logger;
    this.#onRecorded = onRecorded;
  }

  /** The last state recorded (or the one the run started from). */
  get latest(): StateValue | undefined {
    return this.#latest;
  }

  /** Set when the state file could not be written; the run must stop, since commits would go unrecorded. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Records one line; false when writing failed (see `failure`). */
  async record(line: string): Promise<boolean> {
    if (this.#failure) return false;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.#logger.warn(`target printed a line that is not a state value; state file not updated: ${line.slice(0, 120)}`);
      return true;
    }
    const problem = stateProblem(value);
    if (problem) {
      this.#logger.warn(`target printed a state value that cannot be used (${problem}); state file not updated`);
      return true;
    }
    try {
      // The line as the target printed it (it prints the tap's text verbatim): the value, digit for digit.
      await writeStateText(this.#file, line);
    } catch (error) {
      this.#failure = error as Error;
      return false;
    }
    this.#latest = value as StateValue;
    this.#onRecorded(this.#latest);
    return true;
  }
}
