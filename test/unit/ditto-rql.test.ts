import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/core/errors.js';
import {
  and,
  eq,
  exists,
  ge,
  gt,
  ilike,
  inList,
  le,
  like,
  lt,
  ne,
  not,
  or,
  raw,
  rqlLiteral,
  rqlProperty,
  sortOption,
} from '../../src/ditto/rql.js';

/**
 * A reader for Ditto's RQL grammar (rql/parser RqlParserBase + RqlPredicateParser, 3.x): proves that what
 * the builder writes parses back to exactly the operator, property and values it was given.
 */
type Node =
  { op: string; property: string; values: unknown[] } | { op: 'exists'; property: string } | { op: 'and' | 'or' | 'not'; children: Node[] };

function parseRql(input: string): Node {
  let pos = 0;
  const peek = () => input[pos];
  const expect = (ch: string) => {
    if (input[pos] !== ch) throw new Error(`expected ${ch} at ${pos} in ${input}`);
    pos += 1;
  };
  const name = () => {
    const match = /^[a-z]+/.exec(input.slice(pos));
    if (!match) throw new Error(`expected operator at ${pos}`);
    pos += match[0].length;
    return match[0];
  };
  const escaped = (): string => {
    const ch = input[pos++];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (ch !== undefined && ch in simple) return simple[ch] as string;
    if (ch === 'u') {
      const hex = input.slice(pos, pos + 4);
      assert.match(hex, /^[0-9a-fA-F]{4}$/);
      pos += 4;
      return String.fromCharCode(parseInt(hex, 16));
    }
    throw new Error(`bad escape at ${pos}`);
  };
  const property = () => {
    let out = '';
    while (pos < input.length && !',)"\\'.includes(peek() as string)) out += input[pos++];
    return out;
  };
  const literal = (): unknown => {
    if (peek() === '"') {
      pos += 1;
      let out = '';
      while (peek() !== '"') {
        if (pos >= input.length) throw new Error('unterminated string');
        if (peek() === '\\') {
          pos += 1;
          out += escaped();
        } else out += input[pos++];
      }
      pos += 1;
      return out;
    }
    const number = /^[+-]?(?:[1-9]\d*|0)(?:\.\d+)?/.exec(input.slice(pos));
    if (number) {
      pos += number[0].length;
      return Number(number[0]);
    }
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (input.startsWith(word, pos)) {
        pos += word.length;
        return value;
      }
    }
    throw new Error(`bad literal at ${pos} in ${input}`);
  };
  const query = (): Node => {
    const op = name();
    expect('(');
    let node: Node;
    if (op === 'and' || op === 'or') {
      const children = [query()];
      while (peek() === ',') {
        pos += 1;
        children.push(query());
      }
      node = { op, children };
    } else if (op === 'not') {
      node = { op, children: [query()] };
    } else if (op === 'exists') {
      node = { op, property: property() };
    } else {
      const prop = property();
      const values: unknown[] = [];
      do {
        expect(',');
        values.push(literal());
      } while (op === 'in' && peek() === ',');
      node = { op, property: prop, values };
    }
    expect(')');
    return node;
  };
  const root = query();
  assert.equal(pos, input.length, `trailing input after ${pos} in ${input}`);
  return root;
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('rql builder', () => {
  it('keeps quotes and parentheses in a value as data', () => {
    const filter = eq('attributes/location', 'Kitchen "A" (1)');
    assert.equal(filter, 'eq(attributes/location,"Kitchen \\"A\\" (1)")');
    assert.deepEqual(parseRql(filter), { op: 'eq', property: 'attributes/location', values: ['Kitchen "A" (1)'] });
  });

  it('escapes backslashes and control characters', () => {
    assert.equal(rqlLiteral('C:\\temp\\'), '"C:\\\\temp\\\\"');
    assert.equal(rqlLiteral('a\nb\tc\r\u0001'), '"a\\nb\\tc\\r\\u0001"');
  });

  it('cannot be broken out of by hostile values', () => {
    const hostile = ['x"),or(exists(thingId', '\\"),exists(policyId', '")', '\\', '"', ',', ')', 'é🙂 ünïcode', ''];
    for (const value of hostile) {
      const filter = and(eq('attributes/a', value), ne('attributes/b', value));
      assert.deepEqual(parseRql(filter), {
        op: 'and',
        children: [
          { op: 'eq', property: 'attributes/a', values: [value] },
          { op: 'ne', property: 'attributes/b', values: [value] },
        ],
      });
    }
  });

  it("round-trips random strings through Ditto's grammar", () => {
    const random = seeded(42);
    const alphabet = ['"', '\\', '(', ')', ',', ' ', 'a', 'Z', '0', '\n', '\u0000', '\u007f', 'ß', '🙂', "'", '*', '?', '/'];
    for (let n = 0; n < 500; n += 1) {
      let value = '';
      const length = Math.floor(random() * 12);
      for (let i = 0; i < length; i += 1) value += alphabet[Math.floor(random() * alphabet.length)];
      assert.deepEqual(parseRql(inList('thingId', [value, 'x'])), { op: 'in', property: 'thingId', values: [value, 'x'] });
    }
  });

  it('writes numbers Ditto can parse (no exponents, longs within range)', () => {
    const cases: Array<[number, string]> = [
      [21.5, '21.5'],
      [-3, '-3'],
      [0, '0'],
      [-0, '0'],
      [1e21, '1000000000000000000000.0'],
      [1.5e-7, '0.00000015'],
      [-2.5e-10, '-0.00000000025'],
      [123456789.125, '123456789.125'],
      [2 ** 53, '9007199254740992.0'],
    ];
    for (const [value, expected] of cases) {
      assert.equal(rqlLiteral(value), expected, String(value));
      assert.equal(Number(expected), value === 0 ? 0 : value);
      assert.deepEqual(parseRql(gt('features/t/properties/value', value)).op, 'gt');
    }
    assert.throws(() => eq('attributes/x', Number.NaN), ValidationError);
    assert.throws(() => eq('attributes/x', Number.POSITIVE_INFINITY), ValidationError);
  });

  it('writes booleans, null, bigints and dates', () => {
    assert.equal(eq('attributes/on', true), 'eq(attributes/on,true)');
    assert.equal(ne('attributes/on', false), 'ne(attributes/on,false)');
    assert.equal(eq('attributes/owner', null), 'eq(attributes/owner,null)');
    assert.equal(ge('_revision', 9_007_199_254_740_993n), 'ge(_revision,9007199254740993)');
    assert.throws(() => eq('attributes/x', 2n ** 64n), ValidationError);
    assert.equal(gt('_modified', new Date('2024-05-01T12:00:00Z')), 'gt(_modified,"2024-05-01T12:00:00.000Z")');
    assert.throws(() => gt('_modified', new Date('nonsense')), ValidationError);
    assert.throws(() => eq('attributes/x', [1, 2] as never), ValidationError);
    assert.throws(() => eq('attributes/x', { a: 1 } as never), ValidationError);
  });

  it('builds every operator', () => {
    assert.equal(lt('attributes/n', 1), 'lt(attributes/n,1)');
    assert.equal(le('attributes/n', 1), 'le(attributes/n,1)');
    assert.equal(gt('attributes/n', 1), 'gt(attributes/n,1)');
    assert.equal(ge('attributes/n', 1), 'ge(attributes/n,1)');
    assert.equal(like('attributes/name', 'lamp-*'), 'like(attributes/name,"lamp-*")');
    assert.equal(ilike('attributes/name', '*KITCHEN?'), 'ilike(attributes/name,"*KITCHEN?")');
    assert.equal(inList('thingId', ['a:1', 'a:2']), 'in(thingId,"a:1","a:2")');
    assert.equal(inList('attributes/n', [1, null, true]), 'in(attributes/n,1,null,true)');
    assert.equal(exists('features/temperature'), 'exists(features/temperature)');
    assert.equal(not(exists('attributes/x')), 'not(exists(attributes/x))');
    assert.equal(
      or(eq('attributes/a', 1), and(eq('attributes/b', 2), eq('attributes/c', 3))),
      'or(eq(attributes/a,1),and(eq(attributes/b,2),eq(attributes/c,3)))',
    );
    assert.equal(eq('/attributes/location', 'x'), 'eq(/attributes/location,"x")');
  });

  it('skips absent operands, unwraps a single one and rejects none', () => {
    const rooms: Array<string | undefined> = [undefined, '', 'r1'];
    const [none, empty, room] = rooms;
    assert.equal(
      and(eq('attributes/site', 's1'), none && eq('attributes/room', none), empty && eq('attributes/room', empty), null),
      'eq(attributes/site,"s1")',
    );
    assert.equal(
      and(eq('attributes/site', 's1'), room && eq('attributes/room', room)),
      'and(eq(attributes/site,"s1"),eq(attributes/room,"r1"))',
    );
    assert.equal(or(false, exists('a'), exists('b')), 'or(exists(a),exists(b))');
    assert.throws(
      () => and(),
      (error: unknown) => error instanceof ValidationError && error.field === 'and',
    );
    assert.throws(() => or(undefined), ValidationError);
    assert.throws(() => and(''), ValidationError);
    assert.throws(
      () => and(42 as never),
      (error: unknown) => error instanceof ValidationError && error.field === 'and[0]',
    );
    assert.throws(() => not('' as never), ValidationError);
    assert.throws(
      () => inList('thingId', []),
      (error: unknown) => error instanceof ValidationError && error.field === 'values',
    );
    assert.throws(() => like('attributes/x', 5 as never), ValidationError);
  });

  it('rejects property paths RQL cannot carry', () => {
    for (const bad of ['attributes/(x)', 'a)b', 'a,b', 'a"b', 'a b', 'a\\b', "a'b", 'a\tb', '', '/', 'a//b', 'a/']) {
      assert.throws(
        () => eq(bad, 1),
        (error: unknown) => error instanceof ValidationError && error.field === 'property',
        JSON.stringify(bad),
      );
    }
    assert.equal(rqlProperty('features/temperature/properties/value'), 'features/temperature/properties/value');
    assert.equal(rqlProperty('_modified'), '_modified');
    assert.equal(rqlProperty('features/*/properties/on'), 'features/*/properties/on');
  });

  it('passes raw RQL through untouched and only checks it is not empty', () => {
    assert.equal(raw('eq(attributes/x,"y")'), 'eq(attributes/x,"y")');
    assert.equal(and(raw('exists(a)'), eq('b', 1)), 'and(exists(a),eq(b,1))');
    assert.throws(() => raw('  '), ValidationError);
  });

  it('builds sort options', () => {
    assert.equal(sortOption([{ field: 'thingId' }]), 'sort(+thingId)');
    assert.equal(
      sortOption([
        { field: '_modified', direction: 'desc' },
        { field: 'attributes/location', direction: 'asc' },
      ]),
      'sort(-_modified,+attributes/location)',
    );
    assert.throws(() => sortOption([]), ValidationError);
    assert.throws(
      () => sortOption([{ field: 'thingId', direction: 'up' as never }]),
      (e: unknown) => e instanceof ValidationError && e.field === 'sort[0].direction',
    );
    assert.throws(
      () => sortOption([{ field: 'a,b' }]),
      (e: unknown) => e instanceof ValidationError && e.field === 'sort[0].field',
    );
  });
});
