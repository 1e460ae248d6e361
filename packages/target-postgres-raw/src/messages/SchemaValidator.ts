import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv';
import type { Ajv, ValidateFunction } from 'ajv';
import type { DataValidateFunction } from 'ajv/dist/types/index.js';
import type { JsonObject } from 'singer-kit';
import { dateFormats } from './dateFormats.js';
import { isDecimalMultiple } from './decimalMultiple.js';

const require = createRequire(import.meta.url);

/** A record checker: undefined when the record is valid, else what is wrong, in one line. */
export type RecordCheck = (record: JsonObject) => string | undefined;

/**
 * Compiles each stream SCHEMA once (ajv). Of the formats only `date`, `date-time` and `time` are
 * checked (a bad date-time is an error, as an unparseable one is in the Singer SDK); the others
 * (`email`, `uri`, `hostname`, …) are annotations, as the SDK's format checking is off by default:
 * a raw layer keeps `jane@localhost` as the tap sent it rather than stop the load.
 */
export class SchemaValidator {
  readonly #ajv: Ajv;
  /** Taps may repeat a SCHEMA (per window, per batch); each distinct schema is compiled once. */
  readonly #compiled = new Map<string, RecordCheck | { readonly error: string }>();

  constructor() {
    // ajv (CommonJS) is loaded by the first validator made, not at start-up (80 ms and more of CPU):
    // a run whose records all equal their stored rows checks none.
    const { Ajv: AjvClass } = require('ajv') as typeof AjvModule;
    // Singer schemas are loose draft-04/07 mixes; unknown keywords and formats must not fail a load.
    this.#ajv = new AjvClass({ strict: false, allErrors: false, validateSchema: false, addUsedSchema: false, logger: false });
    for (const [name, format] of Object.entries(dateFormats())) this.#ajv.addFormat(name, format);
    // multipleOf on decimal values, not doubles: ajv's own refuses 0.07 as a multiple of 0.01.
    this.#ajv.removeKeyword('multipleOf');
    this.#ajv.addKeyword({
      keyword: 'multipleOf',
      type: 'number',
      schemaType: 'number',
      compile(divisor: number) {
        if (!(divisor > 0) || !Number.isFinite(divisor)) throw new Error(`multipleOf must be a number greater than 0, got ${divisor}`);
        const check: DataValidateFunction = (value: number) => {
          const valid = isDecimalMultiple(value, divisor);
          check.errors = valid ? undefined : [{ keyword: 'multipleOf', message: `must be multiple of ${divisor}`, params: { multipleOf: divisor } }];
          return valid;
        };
        return check;
      },
    });
  }

  /** The checker, or the reason the schema cannot be compiled. */
  compile(schema: JsonObject): RecordCheck | { readonly error: string } {
    const key = JSON.stringify(schema);
    let check = this.#compiled.get(key);
    if (check === undefined) {
      check = this.#compileNew(schema);
      this.#compiled.set(key, check);
    }
    return check;
  }

  #compileNew(schema: JsonObject): RecordCheck | { readonly error: string } {
    let validate: ValidateFunction;
    try {
      validate = this.#ajv.compile(schema);
    } catch (error) {
      return { error: (error as Error).message };
    }
    return (record) => {
      if (validate(record)) return undefined;
      return this.#ajv.errorsText(validate.errors, { dataVar: 'record' });
    };
  }
}
