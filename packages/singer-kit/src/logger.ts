import { redact } from './redact.js';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A new logger whose lines carry `name` (e.g. a stream). */
  child(name: string): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go; stderr by default. stdout is reserved for Singer messages. */
  readonly sink?: (line: string) => void;
}

function parseLevel(value: string | undefined): LogLevel {
  const lower = (value ?? '').toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as LogLevel) : 'info';
}

/** Logs one line per call to stderr: `LEVEL name: message`, secrets redacted. */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLevel(process.env.LOG_LEVEL);
  const threshold = LOG_LEVELS.indexOf(level);
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (at: LogLevel, message: string) => {
    if (LOG_LEVELS.indexOf(at) < threshold) return;
    sink(redact(`${at.toUpperCase()} ${name}: ${message}`));
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    child: (child) => createLogger(`${name} ${child}`, { level, sink }),
  };
}

/** One logger that writes every line to each of `loggers` (e.g. stderr and a run's log file). */
export function teeLogger(...loggers: readonly Logger[]): Logger {
  return {
    debug: (m) => loggers.forEach((l) => l.debug(m)),
    info: (m) => loggers.forEach((l) => l.info(m)),
    warn: (m) => loggers.forEach((l) => l.warn(m)),
    error: (m) => loggers.forEach((l) => l.error(m)),
    child: (name) => teeLogger(...loggers.map((l) => l.child(name))),
  };
}
