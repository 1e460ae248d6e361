import { describe, expect, it } from 'vitest';
import { createLogger } from 'singer-kit';
import type { Row, SkippedRecord } from '../rows/Row.js';
import { MessageRouter, type MessageSink } from './MessageRouter.js';

/** A router that checks records, with what it logs and the rows it passes on. */
function router() {
  const logged: string[] = [];
  const rows: Array<Row | SkippedRecord> = [];
  const sink: MessageSink = {
    openStream: () => undefined,
    record: (_stream, row) => {
      rows.push(row);
      return undefined;
    },
    keepPayload: (payload) => Buffer.from(payload),
    state: () => undefined,
    writtenAfter: () => false,
  };
  const routed = new MessageRouter(true, createLogger('target-postgres-raw', { sink: (line) => logged.push(line) }), sink);
  let number = 0;
  const route = (message: object): void => {
    // The sink takes each row at once: routing never makes the caller wait.
    expect(routed.route({ number: ++number, bytes: Buffer.from(JSON.stringify(message)), lookedUpAfter: 0 })).toBeUndefined();
  };
  return { route, logged, rows };
}

// ajv refuses `multipleOf: 0` when it compiles the schema.
const uncompilable = { type: 'object', properties: { Id: { type: 'string' }, Amount: { type: 'number', multipleOf: 0 } } };

describe('MessageRouter compiles a SCHEMA at its first record checked, not when it arrives', () => {
  it('a SCHEMA ajv cannot compile is logged at its first record, naming its own line, and its records are loaded unchecked', () => {
    const { route, logged, rows } = router();
    route({ type: 'SCHEMA', stream: 'invoices', schema: uncompilable, key_properties: ['Id'] });
    route({ type: 'SCHEMA', stream: 'customers', schema: uncompilable, key_properties: ['Id'] });
    expect(logged).toEqual([]);
    route({ type: 'RECORD', stream: 'invoices', record: { Id: '1', Amount: 'not a number' } });
    route({ type: 'RECORD', stream: 'invoices', record: { Id: '2', Amount: 3 } });
    expect(logged).toEqual([
      expect.stringMatching(
        /^WARN target-postgres-raw: line 1: SCHEMA of stream "invoices" cannot be compiled \(.*multipleOf must be a number greater than 0.*\); its records are loaded unvalidated$/,
      ),
    ]);
    expect(rows.map((row) => row.id)).toEqual(['1', '2']);
  });

  it('records are still checked against their SCHEMA: one that breaks it stops the load, naming its line', () => {
    const { route } = router();
    route({
      type: 'SCHEMA',
      stream: 'invoices',
      schema: { type: 'object', properties: { Id: { type: 'string' }, Amount: { type: 'number' } } },
      key_properties: ['Id'],
    });
    expect(() => route({ type: 'RECORD', stream: 'invoices', record: { Id: '1', Amount: 'ten' } })).toThrow(
      'line 2: stream "invoices" record id "1": does not match its SCHEMA: record/Amount must be number',
    );
  });
});
