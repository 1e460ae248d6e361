import { describe, expect, it } from 'vitest';
import { jsonSyntaxProblem } from './jsonSyntax.js';

const problemOf = (text: string): string => {
  try {
    JSON.parse(text);
  } catch (error) {
    return jsonSyntaxProblem(error);
  }
  throw new Error('parsed');
};

describe('jsonSyntaxProblem', () => {
  it('never repeats the text V8 quotes around the fault', () => {
    for (const text of [
      'AB11SECRETSECRETSECRET',
      '{"refresh_token": "AB11SECRETSECRETSECRET", "x": tru}',
      '{"a": "SECRET" x}',
      '{"refresh_token": "AB11SECRET',
    ]) {
      const problem = problemOf(text);
      expect(problem).not.toMatch(/SECRET|AB11/);
      expect(problem).not.toBe('');
    }
  });

  it('keeps what and where', () => {
    expect(problemOf('{"a": 1,}')).toMatch(/^expected double-quoted property name in JSON at position 8/);
    expect(problemOf('AB11')).toBe("unexpected token 'A'");
  });
});
