import { ValidationError } from '../core/errors.js';

/**
 * RQL filter builder for Ditto's search, change-stream filters and `condition` headers.
 *
 * Every value becomes a literal Ditto's parser (`RqlParserBase`) reads back unchanged: strings are
 * double-quoted with `"` and `\` escaped, so quotes, commas and parentheses inside a value stay data.
 * Numbers are written without exponents, because Ditto's grammar has none (`1e21` would not parse).
 * Property paths are validated instead of escaped: Ditto reads a property up to the next `,` or `)`,
 * so a path with those characters cannot be expressed safely.
 */

declare const rqlExpressionBrand: unique symbol;
declare const rqlSortBrand: unique symbol;

/** An RQL filter produced by this module (or, explicitly, by `raw`). */
export type RqlExpression = string & { readonly [rqlExpressionBrand]: true };

/** A `sort(...)` option produced by `sortOption`. */
export type RqlSortOption = string & { readonly [rqlSortBrand]: true };

/** What a comparison can compare with. A `Date` is sent as its ISO-8601 string (how Ditto stores `_modified`). */
export type RqlValue = string | number | boolean | null | bigint | Date;

export type SortDirection = 'asc' | 'desc';

export interface SortField {
  /** A property path, e.g. `thingId`, `_modified`, `attributes/location`. */
  field: string;
  /** Default `asc`. */
  direction?: SortDirection;
}

// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_PROPERTY = /[(),"'\\\s\x00-\x1F\x7F]/;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

function brand(rql: string): RqlExpression {
  return rql as RqlExpression;
}

/**
 * Checks a property path (`attributes/location`, `features/temperature/properties/value`, `thingId`,
 * `_modified`, optionally with a leading `/`) and returns it unchanged.
 */
export function rqlProperty(path: string, field = 'property'): string {
  if (typeof path !== 'string' || path === '' || path === '/') {
    throw new ValidationError(field, `must be a non-empty property path, got ${JSON.stringify(path)}`, 'e.g. "attributes/location"');
  }
  const bad = FORBIDDEN_IN_PROPERTY.exec(path);
  if (bad) {
    throw new ValidationError(
      field,
      `${JSON.stringify(path)} contains ${JSON.stringify(bad[0])}, which RQL cannot carry in a property path`,
      'Property paths may not contain parentheses, commas, quotes, backslashes or whitespace.',
    );
  }
  const segments = (path.startsWith('/') ? path.slice(1) : path).split('/');
  if (segments.some((segment) => segment === '')) {
    throw new ValidationError(field, `${JSON.stringify(path)} has an empty segment`, 'Write paths like "attributes/location".');
  }
  return path;
}

function quote(text: string): string {
  let out = '"';
  for (const ch of text) {
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      default: {
        const code = ch.codePointAt(0) ?? 0;
        out += code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
      }
    }
  }
  return `${out}"`;
}

/** `1.5e-7` → `0.00000015`; `1e+21` → `1000000000000000000000`. */
function expandExponent(text: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exponentText);
  let plain: string;
  if (point <= 0) plain = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) plain = digits + '0'.repeat(point - digits.length);
  else plain = `${digits.slice(0, point)}.${digits.slice(point)}`;
  plain = plain.replace(/^0+(?=\d)/, '');
  if (plain.includes('.')) plain = plain.replace(/0+$/, '').replace(/\.$/, '');
  return sign + plain;
}

function numberLiteral(value: number, field: string): string {
  if (!Number.isFinite(value)) {
    throw new ValidationError(field, `${value} cannot be expressed in RQL`, 'Use a finite number.');
  }
  if (Object.is(value, -0)) return '0';
  let text = expandExponent(String(value));
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    // Ditto parses integers as Java longs; larger ones must be written as a decimal fraction.
    text = `${text}.0`;
  }
  return text;
}

/** Renders one value as an RQL literal. */
export function rqlLiteral(value: RqlValue, field = 'value'): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return numberLiteral(value, field);
    case 'bigint':
      if (value < LONG_MIN || value > LONG_MAX) {
        throw new ValidationError(field, `${value} is outside the 64-bit range Ditto accepts`);
      }
      return value.toString();
    default:
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new ValidationError(field, 'is an invalid Date');
        return quote(value.toISOString());
      }
      throw new ValidationError(
        field,
        `cannot be used in RQL (got ${Array.isArray(value) ? 'an array' : typeof value})`,
        'Compare with a string, number, boolean, null, bigint or Date; use inList() for several values.',
      );
  }
}

function comparison(operator: string, property: string, value: RqlValue): RqlExpression {
  return brand(`${operator}(${rqlProperty(property)},${rqlLiteral(value)})`);
}

export function eq(property: string, value: RqlValue): RqlExpression {
  return comparison('eq', property, value);
}

export function ne(property: string, value: RqlValue): RqlExpression {
  return comparison('ne', property, value);
}

export function gt(property: string, value: RqlValue): RqlExpression {
  return comparison('gt', property, value);
}

export function ge(property: string, value: RqlValue): RqlExpression {
  return comparison('ge', property, value);
}

export function lt(property: string, value: RqlValue): RqlExpression {
  return comparison('lt', property, value);
}

export function le(property: string, value: RqlValue): RqlExpression {
  return comparison('le', property, value);
}

function patternComparison(operator: 'like' | 'ilike', property: string, pattern: string): RqlExpression {
  if (typeof pattern !== 'string') throw new ValidationError('pattern', `must be a string, got ${typeof pattern}`);
  return comparison(operator, property, pattern);
}

/** Case-sensitive pattern match: `*` matches any run of characters, `?` exactly one. */
export function like(property: string, pattern: string): RqlExpression {
  return patternComparison('like', property, pattern);
}

/** Like `like`, ignoring case. */
export function ilike(property: string, pattern: string): RqlExpression {
  return patternComparison('ilike', property, pattern);
}

/** `in(property, v1, v2, ...)`: the property equals one of the values (at least one is required). */
export function inList(property: string, values: readonly RqlValue[]): RqlExpression {
  if (!Array.isArray(values) || values.length === 0) {
    throw new ValidationError('values', 'in() needs at least one value', 'Pass a non-empty array.');
  }
  const literals = values.map((value, index) => rqlLiteral(value, `values[${index}]`));
  return brand(`in(${rqlProperty(property)},${literals.join(',')})`);
}

/** The property exists (has any value, `null` included). */
export function exists(property: string): RqlExpression {
  return brand(`exists(${rqlProperty(property)})`);
}

/** An operand of `and`/`or`; `undefined`, `null`, `false` and `''` (what `cond && eq(...)` gives) are skipped. */
export type RqlOperand = RqlExpression | undefined | null | false | '';

function logical(operator: 'and' | 'or', operands: readonly RqlOperand[]): RqlExpression {
  const present = operands.filter((operand): operand is RqlExpression => typeof operand === 'string' && operand !== '');
  operands.forEach((operand, index) => {
    if (operand !== undefined && operand !== null && operand !== false && typeof operand !== 'string') {
      throw new ValidationError(`${operator}[${index}]`, 'must be an RQL expression');
    }
  });
  if (present.length === 0) {
    throw new ValidationError(operator, `${operator}() needs at least one expression`);
  }
  if (present.length === 1) return present[0] as RqlExpression;
  return brand(`${operator}(${present.join(',')})`);
}

/**
 * All expressions hold. `undefined`, `null`, `false` and `''` operands are skipped, so optional criteria
 * can be written inline: `and(eq('attributes/site', site), room && eq('attributes/room', room))`.
 */
export function and(...expressions: RqlOperand[]): RqlExpression {
  return logical('and', expressions);
}

/** At least one expression holds. Skips absent operands like `and`. */
export function or(...expressions: RqlOperand[]): RqlExpression {
  return logical('or', expressions);
}

export function not(expression: RqlExpression): RqlExpression {
  if (typeof expression !== 'string' || expression === '') throw new ValidationError('not', 'needs an RQL expression');
  return brand(`not(${expression})`);
}

/**
 * Escape hatch: marks a hand-written RQL string as an expression WITHOUT escaping or checking anything.
 * Never pass user input here; build filters from user input with `eq`, `like`, ... instead.
 */
export function raw(rql: string): RqlExpression {
  if (typeof rql !== 'string' || rql.trim() === '') throw new ValidationError('rql', 'must be a non-empty RQL string');
  return brand(rql);
}

/** `sort(+thingId,-attributes/location)` for the search `option` parameter. */
export function sortOption(fields: readonly SortField[]): RqlSortOption {
  if (!Array.isArray(fields) || fields.length === 0) {
    throw new ValidationError('sort', 'needs at least one field', 'e.g. sortOption([{ field: "thingId" }])');
  }
  const entries = fields.map((entry, index) => {
    const direction = entry?.direction ?? 'asc';
    if (direction !== 'asc' && direction !== 'desc') {
      throw new ValidationError(`sort[${index}].direction`, `must be "asc" or "desc", got ${JSON.stringify(direction)}`);
    }
    return `${direction === 'asc' ? '+' : '-'}${rqlProperty(entry?.field, `sort[${index}].field`)}`;
  });
  return `sort(${entries.join(',')})` as RqlSortOption;
}
