// The SSE parser against the WHATWG "interpreting an event stream" rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SseEvent, SseParser } from '../../src/ditto/sse.js';

function parseAll(chunks: Array<string | Uint8Array>, parser = new SseParser()): SseEvent[] {
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  return [...events, ...parser.end()];
}

describe('SseParser', () => {
  it('parses data, event type and id', () => {
    const events = parseAll(['event: change\nid: 7\ndata: {"a":1}\n\n', 'data: plain\n\n']);
    assert.deepEqual(events, [
      { type: 'change', data: '{"a":1}', lastEventId: '7' },
      { type: 'message', data: 'plain', lastEventId: '7' },
    ]);
  });

  it('joins multi-line data with LF and drops only the final LF', () => {
    assert.deepEqual(parseAll(['data: line1\ndata: line2\ndata:\n\n']), [{ type: 'message', data: 'line1\nline2\n', lastEventId: '' }]);
  });

  it('strips exactly one space after the colon; a line without colon is a field with an empty value', () => {
    assert.deepEqual(parseAll(['data:  two spaces\n\n', 'data\n\n']), [
      { type: 'message', data: ' two spaces', lastEventId: '' },
      { type: 'message', data: '', lastEventId: '' },
    ]);
  });

  it('ignores comments (keep-alives) and counts them', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push(':keep-alive\n\n: another\ndata: x\n\n'), [{ type: 'message', data: 'x', lastEventId: '' }]);
    assert.equal(parser.comments, 2);
  });

  it('accepts CRLF, LF and CR line endings, also when a CRLF is split across chunks', () => {
    assert.deepEqual(
      parseAll(['data: a\r\n\r\ndata: b\r\rdata: c\n\n']).map((e) => e.data),
      ['a', 'b', 'c'],
    );
    // "\r" at the end of one chunk and "\n" at the start of the next is ONE line break, not two.
    assert.deepEqual(
      parseAll(['data: x\r', '\ndata: y\r', '\n\r', '\n']).map((e) => e.data),
      ['x\ny'],
    );
  });

  it('reassembles events and UTF-8 characters split across chunks', () => {
    const bytes = Buffer.from('data: {"name":"Küche 🙂"}\n\n', 'utf8');
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.subarray(i, i + 3));
    assert.deepEqual(parseAll(chunks), [{ type: 'message', data: '{"name":"Küche 🙂"}', lastEventId: '' }]);
  });

  it('strips one leading BOM only', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    assert.deepEqual(
      parseAll([bom, Buffer.from('data: a\n\n')]).map((e) => e.data),
      ['a'],
    );
    assert.deepEqual(
      parseAll(['\uFEFFdata: b\n\n']).map((e) => e.data),
      ['b'],
    );
    // A second BOM makes the first line's field name "\uFEFFdata", which is unknown: nothing is dispatched.
    assert.deepEqual(parseAll(['\uFEFF\uFEFFdata: c\n\n']), []);
  });

  it('keeps the last event ID across events, ignores ids with NUL, and resets on an empty id', () => {
    const parser = new SseParser({ lastEventId: 'from-before' });
    const events = parseAll(['data: a\n\n', 'id: 1\ndata: b\n\n', 'id: bad\u0000id\ndata: c\n\n', 'id\ndata: d\n\n'], parser);
    assert.deepEqual(
      events.map((e) => e.lastEventId),
      ['from-before', '1', '1', ''],
    );
    assert.equal(parser.lastEventId, '');
  });

  it('updates the last event ID even for a block without data, but dispatches nothing', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('id: 42\n\nevent: x\n\n'), []);
    assert.equal(parser.lastEventId, '42');
    assert.deepEqual(parser.push('data: y\n\n'), [{ type: 'message', data: 'y', lastEventId: '42' }]);
  });

  it('takes retry only when it is all ASCII digits', () => {
    const parser = new SseParser();
    parser.push('retry: 1500\n\nretry: 2s\n\nretry: -1\n\n');
    assert.equal(parser.retryMs, 1500);
  });

  it('ignores unknown fields and discards an unterminated event at the end', () => {
    assert.deepEqual(parseAll(['foo: bar\ndata: kept\n\n', 'data: lost']), [{ type: 'message', data: 'kept', lastEventId: '' }]);
    assert.deepEqual(parseAll(['data: lost too\n']), []);
  });
});
