/**
 * Ditto's RQL for the sandbox's search: `eq, ne, gt, ge, lt, le, in, like, ilike, exists, and, or, not` over
 * properties given as paths (`attributes/location/lat`, `thingId`, `features/lamp/properties/on`), with string
 * (double-quoted), number, boolean and null values; `like`/`ilike` with `*` and `?`. Parsed into a predicate;
 * malformed input is a 400 `rql.expression.invalid`.
 */
import { type Json, type JsonObject, getAt, pointerTokens } from './ditto-json.js';
import { dittoError } from './ditto-store.js';
import { wildcard } from './wildcard.js';

export type Predicate = (thing: JsonObject) => boolean;

const invalid = (detail: string) => dittoError(400, 'rql.expression.invalid', `The RQL expression is invalid: ${detail}`);

class Reader {
  private at = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.at >= this.text.length;
  }

  peek(): string {
    return this.text[this.at] ?? '';
  }

  expect(char: string): void {
    if (this.text[this.at] !== char) throw invalid(`expected '${char}' at ${this.at} in ${this.text}`);
    this.at += 1;
  }

  word(): string {
    const start = this.at;
    while (this.at < this.text.length && !',()"'.includes(this.text[this.at]!)) this.at += 1;
    return this.text.slice(start, this.at).trim();
  }

  value(): Json {
    if (this.peek() === '"') {
      this.at += 1;
      let out = '';
      for (;;) {
        const char = this.text[this.at];
        if (char === undefined) throw invalid('an unterminated string');
        this.at += 1;
        if (char === '"') return out;
        if (char === '\\') {
          out += this.text[this.at] ?? '';
          this.at += 1;
        } else out += char;
      }
    }
    const word = this.word();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    if (word !== '' && !Number.isNaN(Number(word))) return Number(word);
    throw invalid(`${JSON.stringify(word)} is not a value (strings are double-quoted)`);
  }
}

function property(reader: Reader): string[] {
  const name = reader.word();
  if (name === '') throw invalid('a property is missing');
  return pointerTokens(name);
}

function compare(a: Json | undefined, b: Json): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function query(reader: Reader): Predicate {
  const op = reader.word();
  reader.expect('(');
  let predicate: Predicate;
  switch (op) {
    case 'and':
    case 'or': {
      const parts = [query(reader)];
      while (reader.peek() === ',') {
        reader.expect(',');
        parts.push(query(reader));
      }
      predicate = op === 'and' ? (thing) => parts.every((part) => part(thing)) : (thing) => parts.some((part) => part(thing));
      break;
    }
    case 'not': {
      const inner = query(reader);
      predicate = (thing) => !inner(thing);
      break;
    }
    case 'exists': {
      const path = property(reader);
      predicate = (thing) => getAt(thing, path) !== undefined;
      break;
    }
    case 'in': {
      const path = property(reader);
      const values: Json[] = [];
      while (reader.peek() === ',') {
        reader.expect(',');
        values.push(reader.value());
      }
      predicate = (thing) => values.some((value) => getAt(thing, path) === value);
      break;
    }
    case 'eq':
    case 'ne':
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
    case 'like':
    case 'ilike': {
      const path = property(reader);
      reader.expect(',');
      const value = reader.value();
      const at = (thing: JsonObject) => getAt(thing, path);
      if (op === 'eq') predicate = (thing) => at(thing) === value;
      else if (op === 'ne') predicate = (thing) => at(thing) !== value;
      else if (op === 'like' || op === 'ilike') {
        if (typeof value !== 'string') throw invalid(`${op} needs a string pattern`);
        const pattern = wildcard(value, op === 'ilike' ? 'i' : '');
        predicate = (thing) => {
          const found = at(thing);
          return typeof found === 'string' && pattern.test(found);
        };
      } else {
        const test = { gt: (n: number) => n > 0, ge: (n: number) => n >= 0, lt: (n: number) => n < 0, le: (n: number) => n <= 0 }[op];
        predicate = (thing) => {
          const order = compare(at(thing), value);
          return order !== undefined && test(order);
        };
      }
      break;
    }
    default:
      throw invalid(`unknown operator ${JSON.stringify(op)}`);
  }
  reader.expect(')');
  return predicate;
}

/** The predicate of an RQL filter; everything matches without one. */
export function parseRql(filter: string | null): Predicate {
  if (filter === null || filter.trim() === '') return () => true;
  const reader = new Reader(filter.trim());
  const predicate = query(reader);
  if (!reader.done()) throw invalid(`unexpected text after the expression in ${filter}`);
  return predicate;
}

export interface SearchOptions {
  sort: Array<{ path: string[]; descending: boolean }>;
  size: number;
  offset: number;
}

/** `sort(+thingId,-attributes/x)`, `size(n)` (1–200, default 25), `cursor(c)`: the `option` parameter. */
export function parseOptions(option: string | null): SearchOptions {
  const options: SearchOptions = { sort: [{ path: ['thingId'], descending: false }], size: 25, offset: 0 };
  if (option === null || option.trim() === '') return options;
  for (const match of option.matchAll(/(sort|size|cursor)\(([^)]*)\)/g)) {
    const [, name, args] = match as unknown as [string, string, string];
    if (name === 'size') {
      const size = Number(args);
      if (!Number.isInteger(size) || size < 1 || size > 200) throw dittoError(400, 'thing-search:option.invalid', 'size must be 1 to 200.');
      options.size = size;
    } else if (name === 'cursor') {
      const offset = /^o(\d+)$/.exec(args);
      if (offset === null) throw dittoError(400, 'thing-search:cursor.invalid', 'The cursor is not one the sandbox gave.');
      options.offset = Number(offset[1]);
    } else {
      options.sort = args.split(',').map((entry) => {
        const trimmed = entry.trim();
        if (!/^[+-]/.test(trimmed)) throw dittoError(400, 'thing-search:option.invalid', 'Each sort field starts with + or -.');
        return { path: pointerTokens(trimmed.slice(1)), descending: trimmed.startsWith('-') };
      });
    }
  }
  return options;
}

export function sortThings(things: JsonObject[], sort: SearchOptions['sort']): JsonObject[] {
  return [...things].sort((a, b) => {
    for (const { path, descending } of sort) {
      const left = getAt(a, path);
      const right = getAt(b, path);
      if (left === right) continue;
      if (left === undefined) return 1;
      if (right === undefined) return -1;
      const order = compare(left, right as Json) ?? (String(left) < String(right) ? -1 : 1);
      if (order !== 0) return descending ? -order : order;
    }
    return 0;
  });
}

/** A cursor the sandbox can read back: the offset of the next page. */
export const cursorAt = (offset: number): string => `o${offset}`;
