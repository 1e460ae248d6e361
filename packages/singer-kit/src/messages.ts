import { MessageError } from './errors.js';

export type JsonObject = { [key: string]: unknown };

/**
 * Parses one input line into a message object with its `type` upper-cased (the spec's types
 * are matched case-insensitively). Numbers are parsed as JS numbers here: callers that must keep
 * exact digits keep the line's text as well (see the target's staging, the tap's rawJson).
 */
export function parseMessageLine(line: string, lineNumber: number): JsonObject & { type: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    const preview = line.length > 80 ? `${line.slice(0, 80)}…` : line;
    throw new MessageError(lineNumber, `not valid JSON (${(error as Error).message}): ${preview}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MessageError(lineNumber, 'a Singer message must be a JSON object');
  }
  const type = (value as JsonObject).type;
  if (typeof type !== 'string') {
    throw new MessageError(lineNumber, 'message has no "type" string');
  }
  return { ...(value as JsonObject), type: type.toUpperCase() };
}
