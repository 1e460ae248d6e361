/**
 * The QBO query language subset: parse a query text into a plain value, or throw a
 * QueryParseError whose detail reads like QBO's (`Encountered " <IDENTIFIER> "TxnDate "" at
 * line 1, column 29.`). Semantic checks (entity, properties) belong to the caller.
 */

const OPERATORS = ['=', '<', '>', '<=', '>=', 'IN', 'LIKE'] as const;
type Operator = (typeof OPERATORS)[number];

export type Literal = { readonly kind: 'string'; readonly value: string } | { readonly kind: 'boolean'; readonly value: boolean };

export interface Condition {
  readonly property: string;
  readonly op: Operator;
  /** One value, or the list of `IN (…)`. */
  readonly values: readonly Literal[];
}

export interface ParsedQuery {
  readonly count: boolean;
  readonly entity: string;
  readonly where: readonly Condition[];
  readonly orderBy?: { readonly property: string; readonly descending: boolean };
  /** 1-based; 0 is read as 1, as QBO does. */
  readonly startPosition: number;
  /** Default 100, capped at 1000. */
  readonly maxResults: number;
}

const DEFAULT_MAX_RESULTS = 100;
export const MAX_MAX_RESULTS = 1000;

export class QueryParseError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'QueryParseError';
  }
}

type TokenKind = 'word' | 'string' | 'number' | 'symbol' | 'eof';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Unescaped value of a string literal. */
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

const KEYWORDS = new Set([
  'SELECT',
  'COUNT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'IN',
  'LIKE',
  'ORDERBY',
  'ORDER',
  'BY',
  'ASC',
  'DESC',
  'STARTPOSITION',
  'MAXRESULTS',
  'TRUE',
  'FALSE',
]);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const at = (start: number, kind: TokenKind, raw: string, value = raw): Token => ({
    kind,
    text: raw,
    value,
    line,
    column: start - lineStart + 1,
  });
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
    } else if (/\s/.test(c)) i++;
    else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push(at(i, 'word', m[0]));
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push(at(i, 'number', m[0]));
      i += m[0].length;
    } else if (c === "'") {
      let value = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== "'"; j++) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        value += text[j];
      }
      if (j >= text.length) throw parseErrorAt(at(i, 'symbol', "'"), 'lexical');
      tokens.push(at(i, 'string', text.slice(i, j + 1), value));
      i = j + 1;
    } else {
      const two = text.slice(i, i + 2);
      const sym = two === '<=' || two === '>=' || two === '!=' || two === '<>' ? two : c;
      tokens.push(at(i, 'symbol', sym));
      i += sym.length;
    }
  }
  tokens.push(at(i, 'eof', ''));
  return tokens;
}

function describe(token: Token): string {
  if (token.kind === 'eof') return '"<EOF>"';
  if (token.kind === 'string') return `" <STRING> "${token.text} ""`;
  if (token.kind === 'number') return `" <INTEGER> "${token.text} ""`;
  if (token.kind === 'word' && KEYWORDS.has(token.text.toUpperCase())) return `" "${token.text.toUpperCase()}" "${token.text} ""`;
  if (token.kind === 'word') return `" <IDENTIFIER> "${token.text} ""`;
  return `" "${token.text}" "${token.text} ""`;
}

function parseErrorAt(token: Token, kind: 'parse' | 'lexical' = 'parse'): QueryParseError {
  if (kind === 'lexical') return new QueryParseError(`QueryParserError: Lexical error at line ${token.line}, column ${token.column}.`);
  return new QueryParseError(`QueryParserError: Encountered ${describe(token)} at line ${token.line}, column ${token.column}.`);
}

class Parser {
  #pos = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  peek(): Token {
    return this.tokens[this.#pos] as Token;
  }
  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.#pos++;
    return t;
  }
  isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.text.toUpperCase() === word;
  }
  keyword(word: string): void {
    if (!this.isKeyword(word)) throw parseErrorAt(this.peek());
    this.next();
  }
  symbol(sym: string): void {
    const t = this.peek();
    if (t.kind !== 'symbol' || t.text !== sym) throw parseErrorAt(t);
    this.next();
  }
  identifier(): string {
    const t = this.peek();
    if (t.kind !== 'word' || KEYWORDS.has(t.text.toUpperCase())) throw parseErrorAt(t);
    this.next();
    return t.text;
  }
  integer(): number {
    const t = this.peek();
    if (t.kind !== 'number' || t.text.includes('.')) throw parseErrorAt(t);
    this.next();
    return Number(t.text);
  }
  literal(): Literal {
    const t = this.peek();
    if (t.kind === 'string') {
      this.next();
      return { kind: 'string', value: t.value };
    }
    if (this.isKeyword('TRUE') || this.isKeyword('FALSE')) {
      this.next();
      return { kind: 'boolean', value: t.text.toUpperCase() === 'TRUE' };
    }
    throw parseErrorAt(t);
  }
  condition(): Condition {
    const property = this.identifier();
    const t = this.peek();
    if (this.isKeyword('IN')) {
      this.next();
      this.symbol('(');
      const values = [this.literal()];
      while (this.peek().kind === 'symbol' && this.peek().text === ',') {
        this.next();
        values.push(this.literal());
      }
      this.symbol(')');
      return { property, op: 'IN', values };
    }
    if (this.isKeyword('LIKE')) {
      this.next();
      const value = this.literal();
      if (value.kind !== 'string') throw parseErrorAt(t);
      return { property, op: 'LIKE', values: [value] };
    }
    if (t.kind === 'symbol' && (OPERATORS as readonly string[]).includes(t.text)) {
      this.next();
      return { property, op: t.text as Operator, values: [this.literal()] };
    }
    throw parseErrorAt(t);
  }
  query(): ParsedQuery {
    this.keyword('SELECT');
    let count = false;
    if (this.isKeyword('COUNT')) {
      this.next();
      this.symbol('(');
      this.symbol('*');
      this.symbol(')');
      count = true;
    } else this.symbol('*');
    this.keyword('FROM');
    const entity = this.identifier();
    const where: Condition[] = [];
    if (this.isKeyword('WHERE')) {
      this.next();
      where.push(this.condition());
      while (this.isKeyword('AND')) {
        this.next();
        where.push(this.condition());
      }
    }
    let orderBy: ParsedQuery['orderBy'];
    if (this.isKeyword('ORDERBY') || this.isKeyword('ORDER')) {
      if (this.next().text.toUpperCase() === 'ORDER') this.keyword('BY');
      const property = this.identifier();
      let descending = false;
      if (this.isKeyword('ASC') || this.isKeyword('DESC')) descending = this.next().text.toUpperCase() === 'DESC';
      orderBy = { property, descending };
    }
    let startPosition = 1;
    let maxResults = DEFAULT_MAX_RESULTS;
    for (let seen = 0; seen < 2; seen++) {
      if (this.isKeyword('STARTPOSITION')) {
        this.next();
        startPosition = Math.max(1, this.integer());
      } else if (this.isKeyword('MAXRESULTS')) {
        this.next();
        maxResults = Math.min(MAX_MAX_RESULTS, this.integer());
      }
    }
    if (this.peek().kind !== 'eof') throw parseErrorAt(this.peek());
    return { count, entity, where, ...(orderBy ? { orderBy } : {}), startPosition, maxResults };
  }
}

export function parseQuery(text: string): ParsedQuery {
  return new Parser(tokenize(text)).query();
}
