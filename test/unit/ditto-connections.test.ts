import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { BadRequestError, NotFoundError, ServiceUnavailableError, UnauthorizedError, ValidationError } from '../../src/core/index.js';
import type { Connection, ConnectionStatus, NewConnection } from '../../src/ditto/index.js';
import {
  BASIC,
  DEVOPS_BASIC,
  DEVOPS_PASSWORD,
  capturingLogger,
  errorBody,
  fixture,
  makeClient,
  route,
  watchUnmatched,
} from '../fixtures/ditto/kit.js';

const ID = 'hono-kafka-connection-for-org_acme';
const PATH = `/api/2/connections/${ID}`;
const connection = fixture<Connection>('connection.json');
const newConnection = fixture<NewConnection>('connection-new.json');
const status = fixture<ConnectionStatus>('connection-status.json');

function isValidation(field: string) {
  return (error: unknown) => error instanceof ValidationError && error.field === field;
}

describe('ConnectionsApi', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('puts the Cloud2Edge connection with the devops credentials: 201 created', async () => {
    const { seen } = route('PUT', PATH, { status: 201, body: connection });
    const result = await makeClient().connections.put(ID, newConnection);
    assert.deepEqual(result, { status: 201, created: true, connection });
    assert.deepEqual(seen[0]?.body, newConnection);
    assert.equal(seen[0]?.headers.authorization, DEVOPS_BASIC);
    assert.equal(seen[0]?.headers['content-type'], 'application/json');
  });

  it('reports an update (204) and accepts a matching id in the body', async () => {
    route('PUT', PATH, { status: 204 });
    assert.deepEqual(await makeClient().connections.put(ID, connection), { status: 204, created: false, connection: undefined });
  });

  it('falls back to the main credentials without devops credentials', async () => {
    const { seen } = route('GET', PATH, { status: 200, body: connection });
    await makeClient({ devopsCredentials: undefined }).connections.get(ID);
    assert.equal(seen[0]?.headers.authorization, BASIC);
  });

  it('gets one connection with fields, and lists them', async () => {
    const one = route('GET', PATH, { status: 200, body: connection });
    const all = route('GET', '/api/2/connections', { status: 200, body: [connection] });
    const connections = makeClient().connections;
    assert.deepEqual(await connections.get(ID, { fields: ['id', 'connectionStatus'] }), connection);
    assert.deepEqual(one.seen[0]?.query, { fields: 'id,connectionStatus' });
    assert.deepEqual(await connections.list({ idsOnly: true }), [connection]);
    assert.deepEqual(all.seen[0]?.query, { 'ids-only': 'true' });
  });

  it('creates with a generated ID (POST, dry-run) without retrying', async () => {
    const { seen } = route(
      'POST',
      '/api/2/connections',
      { status: 201, body: connection },
      { status: 200 },
      { status: 503, body: errorBody(503) },
    );
    const connections = makeClient().connections;
    assert.deepEqual(await connections.create(newConnection), connection);
    assert.equal(await connections.create(newConnection, { dryRun: true }), undefined);
    assert.deepEqual(seen[1]?.query, { 'dry-run': 'true' });
    await assert.rejects(connections.create(newConnection), ServiceUnavailableError);
    assert.equal(seen.length, 3);
    await assert.rejects(connections.create(connection), isValidation('connection.id'));
  });

  it('deletes, reads the status, metrics and logs', async () => {
    const del = route('DELETE', PATH, { status: 204 });
    route('GET', `${PATH}/status`, { status: 200, body: status });
    route('GET', `${PATH}/metrics`, { status: 200, body: { connectionId: ID, connectionMetrics: {} } });
    route('GET', `${PATH}/logs`, { status: 200, body: { connectionId: ID, connectionLogs: [] } });
    const connections = makeClient().connections;
    await connections.delete(ID);
    assert.equal(del.seen[0]?.headers.authorization, DEVOPS_BASIC);
    assert.deepEqual(await connections.status(ID), status);
    assert.deepEqual(await connections.metrics(ID), { connectionId: ID, connectionMetrics: {} });
    assert.deepEqual(await connections.logs(ID), { connectionId: ID, connectionLogs: [] });
  });

  it('sends commands as text/plain, not retried', async () => {
    const { seen } = route('POST', `${PATH}/command`, { status: 200 }, { status: 200 }, { status: 503, body: errorBody(503) });
    const connections = makeClient().connections;
    await connections.open(ID);
    await connections.command(ID, 'connectivity.commands:resetConnectionMetrics');
    await assert.rejects(connections.close(ID), ServiceUnavailableError);
    assert.deepEqual(
      seen.map((request) => request.body),
      ['connectivity.commands:openConnection', 'connectivity.commands:resetConnectionMetrics', 'connectivity.commands:closeConnection'],
    );
    assert.ok(seen.every((request) => request.headers['content-type'] === 'text/plain'));
  });

  it('retries reads on 503', async () => {
    const { seen } = route('GET', `${PATH}/status`, { status: 503, body: errorBody(503) }, { status: 200, body: status });
    assert.deepEqual(await makeClient().connections.status(ID), status);
    assert.equal(seen.length, 2);
  });

  it('explains 401 and 404 for connections', async () => {
    route(
      'GET',
      PATH,
      { status: 401, body: errorBody(401) },
      {
        status: 404,
        body: { status: 404, error: 'connectivity:connection.notfound', message: `The Connection with ID '${ID}' could not be found.` },
      },
    );
    const connections = makeClient().connections;
    await assert.rejects(connections.get(ID), (error: unknown) => {
      assert.ok(error instanceof UnauthorizedError);
      assert.match(error.hint ?? '', /devops/);
      return true;
    });
    await assert.rejects(connections.get(ID), (error: unknown) => {
      assert.ok(error instanceof NotFoundError);
      assert.equal(error.upstreamCode, 'connectivity:connection.notfound');
      assert.match(error.hint ?? '', /No connection with this ID/);
      return true;
    });
  });

  it('masks the connection URI password and the devops password in errors and logs', async () => {
    const logger = capturingLogger();
    const client = makeClient({ logger });
    route(
      'PUT',
      PATH,
      { status: 503, body: errorBody(503) },
      {
        status: 400,
        body: {
          status: 400,
          error: 'connectivity:connection.configuration.invalid',
          message: `Connecting to ssl://ditto-c2e:verysecret@c2e-kafka:9092 failed (devops password ${DEVOPS_PASSWORD}).`,
        },
      },
    );
    await assert.rejects(client.connections.put(ID, newConnection), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      const text = `${error.message} ${error.upstreamMessage} ${JSON.stringify(error.body)} ${error.hint}`;
      assert.ok(!text.includes('verysecret'), text);
      assert.ok(!text.includes(DEVOPS_PASSWORD), text);
      assert.match(error.upstreamMessage ?? '', /\[REDACTED\]/);
      return true;
    });
    const logged = logger.lines.join('\n');
    assert.ok(logger.lines.length > 0);
    assert.ok(!logged.includes('verysecret'));
    assert.ok(!logged.includes(DEVOPS_PASSWORD));
  });

  it('rejects bad IDs, bodies and commands before sending', async () => {
    const unmatched = watchUnmatched();
    const connections = makeClient().connections;
    await assert.rejects(connections.get('a/b'), isValidation('connectionId'));
    await assert.rejects(connections.get(''), isValidation('connectionId'));
    await assert.rejects(connections.put(ID, { ...newConnection, id: 'other' }), isValidation('connection.id'));
    await assert.rejects(connections.put(ID, { ...newConnection, uri: '' }), isValidation('connection.uri'));
    await assert.rejects(connections.put(ID, { ...newConnection, sources: undefined as never }), isValidation('connection.sources'));
    await assert.rejects(connections.command(ID, 'connectivity.commands:explode' as never), isValidation('command'));
    // A line break in a caller header would have been dropped silently by axios.
    await assert.rejects(connections.get(ID, { headers: { 'x-trace': 'a\r\nX-Evil: 1' } }), isValidation('headers.x-trace'));
    await assert.rejects(connections.delete(ID, { headers: { 'x-trace': 'a\nb' } }), isValidation('headers.x-trace'));
    await assert.rejects(connections.get('hono-\uD800'), isValidation('connectionId'));
    unmatched.stop();
    assert.equal(unmatched.count(), 0);
  });
});
