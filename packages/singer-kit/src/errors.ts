/** Exit codes shared by every CLI in this repository (DESIGN §6). */
export const EXIT = { ok: 0, runFailed: 1, usage: 2 } as const;

export interface CliErrorOptions {
  readonly cause?: unknown;
  /** Extra lines printed after the one-line message (never secrets). */
  readonly details?: string;
}

/** An error meant for a person: a one-line message and the process exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly details: string | undefined;
  constructor(message: string, exitCode: number, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.details = options.details;
  }
}

/** Bad usage, settings or configuration: exit 2. */
export class UsageError extends CliError {
  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, EXIT.usage, options);
  }
}

/** A failure while running (source or database unavailable, bad input data): exit 1. */
export class RunError extends CliError {
  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, EXIT.runFailed, options);
  }
}

/** Input that breaks the Singer protocol; names the line it was found on. */
export class MessageError extends RunError {
  readonly lineNumber: number;
  constructor(lineNumber: number, message: string, options: CliErrorOptions = {}) {
    super(`line ${lineNumber}: ${message}`, options);
    this.lineNumber = lineNumber;
  }
}

/** stdout was closed by the reader (EPIPE): the downstream process is gone. */
export class OutputClosedError extends RunError {
  constructor(options: CliErrorOptions = {}) {
    super('stdout was closed by the reading process (broken pipe); stopping', options);
  }
}
