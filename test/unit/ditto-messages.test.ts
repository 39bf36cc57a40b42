import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { BadRequestError, RequestTimeoutError, ServiceUnavailableError, TimeoutError, ValidationError } from '../../src/core/index.js';
import { liveMessage } from '../../src/protocol/codec.js';
import { BASE, BASIC, THING, THING_SEG, errorBody, makeClient, route, watchUnmatched } from '../fixtures/ditto/kit.js';

const INBOX = `/api/2/things/${THING_SEG}/inbox/messages`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isValidation(field: string) {
  return (error: unknown) => error instanceof ValidationError && error.field === field;
}

describe('MessagesApi', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('sends a JSON payload to the inbox with timeout=10 and a generated correlation-id', async () => {
    const { seen } = route('POST', `${INBOX}/switch`, {
      status: 200,
      body: { on: true },
      headers: { 'correlation-id': 'from-ditto' },
    });
    const response = await makeClient().messages.send({ thingId: THING, subject: 'switch', payload: { on: true } });
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0]?.query, { timeout: '10' });
    assert.deepEqual(seen[0]?.body, { on: true });
    assert.equal(seen[0]?.headers['content-type'], 'application/json');
    assert.equal(seen[0]?.headers.accept, '*/*');
    assert.equal(seen[0]?.headers.authorization, BASIC);
    assert.match(seen[0]?.headers['correlation-id'] ?? '', UUID);
    assert.equal(response.status, 200);
    assert.equal(response.accepted, false);
    assert.deepEqual(response.data, { on: true });
    assert.equal(response.contentType, 'application/json');
    assert.equal(response.correlationId, 'from-ditto');
    assert.equal(response.headers['correlation-id'], 'from-ditto');
  });

  it("uses the caller's correlation-id and acks, and falls back to it when Ditto sends none", async () => {
    const { seen } = route('POST', `${INBOX}/switch`, { status: 204 });
    const response = await makeClient().messages.send(
      { thingId: THING, subject: 'switch', timeoutSeconds: 5 },
      { correlationId: 'my-corr', requestedAcks: ['live-response'], headers: { 'x-extra': '1' } },
    );
    assert.equal(seen[0]?.headers['correlation-id'], 'my-corr');
    assert.equal(seen[0]?.headers['requested-acks'], 'live-response');
    assert.equal(seen[0]?.headers['x-extra'], '1');
    assert.deepEqual(seen[0]?.query, { timeout: '5' });
    assert.equal(seen[0]?.body, undefined);
    assert.equal(response.status, 204);
    assert.equal(response.data, undefined);
    assert.equal(response.correlationId, 'my-corr');
  });

  it('sends strings verbatim as text/plain to a feature outbox, keeping "/" in the subject', async () => {
    const path = `/api/2/things/${THING_SEG}/features/lamp%201/outbox/messages/state/changed%20now`;
    const { seen } = route('POST', path, { status: 200, body: 'ok', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    const response = await makeClient().messages.send({
      thingId: THING,
      featureId: 'lamp 1',
      direction: 'outbox',
      subject: 'state/changed now',
      payload: 'on',
    });
    assert.equal(seen[0]?.path, path);
    assert.equal(seen[0]?.body, 'on');
    assert.equal(seen[0]?.headers['content-type'], 'text/plain');
    assert.equal(response.data, 'ok');
    assert.equal(response.contentType, 'text/plain; charset=utf-8');
  });

  it('sends and receives bytes', async () => {
    const payload = new Uint8Array([0, 1, 2, 250]);
    let received: Buffer | undefined;
    nock(BASE)
      .post(`${INBOX}/firmware`, (body: unknown) => {
        received = Buffer.from(body as string, 'hex');
        return true;
      })
      .query(true)
      .reply(200, Buffer.from([9, 8, 7]), { 'content-type': 'application/octet-stream' });
    const response = await makeClient().messages.send({ thingId: THING, subject: 'firmware', payload });
    assert.deepEqual([...(received ?? [])], [0, 1, 2, 250]);
    assert.ok(response.data instanceof Uint8Array);
    assert.deepEqual([...(response.data as Uint8Array)], [9, 8, 7]);
  });

  it('honours an explicit content type for a JSON value', async () => {
    const { seen } = route('POST', `${INBOX}/switch`, { status: 204 });
    await makeClient().messages.send({
      thingId: THING,
      subject: 'switch',
      payload: [1, 2],
      contentType: 'application/vnd.eclipse.ditto+json',
    });
    assert.equal(seen[0]?.headers['content-type'], 'application/vnd.eclipse.ditto+json');
    assert.deepEqual(seen[0]?.body, [1, 2]);
  });

  it('timeoutSeconds 0 is fire and forget: timeout=0 and a typed 202', async () => {
    const { seen } = route('POST', `${INBOX}/blink`, { status: 202 });
    const response = await makeClient().messages.send({ thingId: THING, subject: 'blink', payload: 3, timeoutSeconds: 0 });
    assert.deepEqual(seen[0]?.query, { timeout: '0' });
    assert.equal(response.status, 202);
    assert.equal(response.accepted, true);
    assert.equal(response.data, undefined);
  });

  it('408 becomes RequestTimeoutError with the device hint, and is not retried', async () => {
    const { seen } = route('POST', `${INBOX}/switch`, { status: 408, body: errorBody(408) }, { status: 200, body: {} });
    await assert.rejects(makeClient().messages.send({ thingId: THING, subject: 'switch', timeoutSeconds: 3 }), (error: unknown) => {
      assert.ok(error instanceof RequestTimeoutError);
      assert.equal(error.upstreamCode, 'command.timeout');
      assert.match(error.hint ?? '', /no device answered within 3 s/i);
      assert.match(error.hint ?? '', /connected and subscribed for commands/);
      assert.match(error.hint ?? '', /Hono's request id and Ditto's correlation-id/);
      return true;
    });
    assert.equal(seen.length, 1);
  });

  it('is not retried on 503', async () => {
    const { seen } = route('POST', `${INBOX}/switch`, { status: 503, body: errorBody(503) }, { status: 200, body: {} });
    await assert.rejects(makeClient().messages.send({ thingId: THING, subject: 'switch' }), ServiceUnavailableError);
    assert.equal(seen.length, 1);
  });

  it('a device answer with an error status becomes the matching HttpError carrying the device payload', async () => {
    route('POST', `${INBOX}/switch`, { status: 400, body: { reason: 'unknown mode' } });
    await assert.rejects(makeClient().messages.send({ thingId: THING, subject: 'switch', payload: { mode: 'x' } }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.deepEqual(error.body, { reason: 'unknown mode' });
      return true;
    });
  });

  it('waits beyond the client deadline when Ditto is asked to wait longer', async () => {
    nock(BASE).post(`${INBOX}/slow`).query(true).delay(400).reply(200, { done: true });
    const response = await makeClient({ timeoutMs: 150 }).messages.send({ thingId: THING, subject: 'slow', timeoutSeconds: 1 });
    assert.deepEqual(response.data, { done: true });
  });

  it('an explicit timeoutMs still bounds the call', async () => {
    nock(BASE).post(`${INBOX}/slow`).query(true).delay(1_000).reply(200, {});
    await assert.rejects(
      makeClient().messages.send({ thingId: THING, subject: 'slow' }, { timeoutMs: 50 }),
      (error: unknown) => error instanceof TimeoutError && error.timeoutMs === 50,
    );
  });

  it('rejects bad input before sending', async () => {
    const unmatched = watchUnmatched();
    const messages = makeClient().messages;
    await assert.rejects(messages.send({ thingId: THING, subject: 'x', timeoutSeconds: 61 }), isValidation('timeoutSeconds'));
    await assert.rejects(messages.send({ thingId: THING, subject: 'x', timeoutSeconds: -1 }), isValidation('timeoutSeconds'));
    await assert.rejects(messages.send({ thingId: THING, subject: 'x', timeoutSeconds: 1.5 }), isValidation('timeoutSeconds'));
    await assert.rejects(messages.send({ thingId: THING, subject: '' }), isValidation('subject'));
    await assert.rejects(messages.send({ thingId: THING, subject: '/' }), isValidation('subject'));
    await assert.rejects(messages.send({ thingId: THING, subject: 'a//b' }), isValidation('subject'));
    await assert.rejects(messages.send({ thingId: 'lamp-1', subject: 'x' }), isValidation('thingId'));
    await assert.rejects(messages.send({ thingId: THING, featureId: 'a/b', subject: 'x' }), isValidation('featureId'));
    await assert.rejects(messages.send({ thingId: THING, subject: 'x', direction: 'sideways' as 'inbox' }), isValidation('direction'));
    await assert.rejects(messages.send({ thingId: THING, subject: 'x' }, { dittoTimeout: 5 }), isValidation('dittoTimeout'));
    await assert.rejects(messages.send({ thingId: THING, subject: 'x', contentType: 'json' }), isValidation('contentType'));
    await assert.rejects(messages.send({ thingId: THING, subject: 'x', payload: { n: Number.NaN } }), isValidation('payload.n'));
    await assert.rejects(messages.claim(THING, undefined, { timeoutSeconds: 601 }), isValidation('timeoutSeconds'));
    unmatched.stop();
    assert.equal(unmatched.count(), 0);
  });

  it('accepts and refuses exactly the subjects the Ditto Protocol builder does (one rule for both)', async () => {
    const sent: string[] = [];
    nock(BASE)
      .persist()
      .post(() => true)
      .reply(function (uri) {
        sent.push(uri.split('?')[0] ?? '');
        return [202];
      });
    const accepted = ['switch', 'state/changed now', 'a?b#c', '100%', '温度/설정', 'ping🙂', 'x'.repeat(256)];
    // NUL and LF were percent-encoded and sent before, while the builder refused them.
    const refused = [
      'a\u0000b',
      'a\nb',
      'a\r\nb',
      'a\u007fb',
      'caf\u00e9',
      '\u0080',
      'x'.repeat(257),
      'a\uD800b',
      '/s',
      's/',
      'a//b',
      '..',
      'a/./b',
      '',
    ];
    const messages = makeClient().messages;
    for (const subject of accepted) {
      assert.equal(liveMessage(THING, subject, undefined, { direction: 'inbox' }).path, `/inbox/messages/${subject}`);
      sent.length = 0;
      await messages.send({ thingId: THING, subject, timeoutSeconds: 0 });
      const encoded = subject.split('/').map(encodeURIComponent).join('/');
      assert.deepEqual(sent, [`${INBOX}/${encoded}`], subject);
    }
    sent.length = 0;
    for (const subject of refused) {
      assert.throws(() => liveMessage(THING, subject, undefined, { direction: 'inbox' }), isValidation('subject'), JSON.stringify(subject));
      await assert.rejects(messages.send({ thingId: THING, subject, timeoutSeconds: 0 }), isValidation('subject'), JSON.stringify(subject));
    }
    assert.deepEqual(sent, []);
  });

  describe('claim', () => {
    it('POSTs to /inbox/claim with timeout=60 by default', async () => {
      const { seen } = route('POST', `/api/2/things/${THING_SEG}/inbox/claim`, { status: 200, body: { granted: true } });
      const response = await makeClient().messages.claim(THING, { token: 'abc' });
      assert.deepEqual(seen[0]?.query, { timeout: '60' });
      assert.deepEqual(seen[0]?.body, { token: 'abc' });
      assert.deepEqual(response.data, { granted: true });
    });

    it('takes up to 600 s and a content type', async () => {
      const { seen } = route('POST', `/api/2/things/${THING_SEG}/inbox/claim`, { status: 204 });
      await makeClient().messages.claim(THING, 'let me in', { timeoutSeconds: 600, contentType: 'text/plain', correlationId: 'c-9' });
      assert.deepEqual(seen[0]?.query, { timeout: '600' });
      assert.equal(seen[0]?.body, 'let me in');
      assert.equal(seen[0]?.headers['correlation-id'], 'c-9');
    });
  });
});
