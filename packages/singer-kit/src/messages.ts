import { MessageError } from './errors.js';

export const MESSAGE_TYPES = ['SCHEMA', 'RECORD', 'STATE', 'ACTIVATE_VERSION', 'BATCH'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export type JsonObject = { [key: string]: unknown };

export interface SchemaMessage {
  readonly type: 'SCHEMA';
  readonly stream: string;
  readonly schema: JsonObject;
  readonly key_properties?: readonly string[];
  readonly bookmark_properties?: readonly string[];
}
export interface RecordMessage {
  readonly type: 'RECORD';
  readonly stream: string;
  readonly record: JsonObject;
  readonly version?: number;
  readonly time_extracted?: string;
}
export interface StateMessage {
  readonly type: 'STATE';
  readonly value: unknown;
}
export interface ActivateVersionMessage {
  readonly type: 'ACTIVATE_VERSION';
  readonly stream: string;
  readonly version: number;
}
export interface BatchMessage {
  readonly type: 'BATCH';
  readonly stream: string;
}
/** A message whose type this program does not know; targets warn and skip it. */
export interface UnknownMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

export type SingerMessage = SchemaMessage | RecordMessage | StateMessage | ActivateVersionMessage | BatchMessage;

export function isKnownType(type: string): type is MessageType {
  return (MESSAGE_TYPES as readonly string[]).includes(type);
}

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
