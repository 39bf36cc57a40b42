// TwinAuditor against a fake Ditto on 127.0.0.1 (the change stream and the history over SSE, things GET, as Ditto
// 3.5's gateway answers them, with `_revision`, `_modified` and `_context`) and a real Anchorer on a DevLedger and an
// EmbeddedStore in a temp folder: changes become records with proofs, a restart resumes without gaps or duplicates,
// and auditThing reports a clean twin as ok and names each divergence.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { base32upper } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import { Anchorer } from '../../src/anchor/anchorer.js';
import { TwinAuditor } from '../../src/anchor/auditor.js';
import type { AuditAppendedEvent, AuditGapEvent, TwinAuditorOptions, TwinChangeRecord } from '../../src/anchor/audit-types.js';
import { verify } from '../../src/anchor/verify.js';
import { ExponentialBackoff, TwinLedgerError, ValidationError } from '../../src/core/index.js';
import { DittoClient } from '../../src/ditto/index.js';
import { DevLedger } from '../../src/ledger/dev/index.js';
import { EmbeddedStore } from '../../src/offchain/index.js';

const NS = 'org.acme';
const LAMP = `${NS}:lamp-1`;

type Json = unknown;
interface Change {
  revision: number;
  action: 'created' | 'modified' | 'merged' | 'deleted';
  path: string;
  value: Json;
  modified: string;
}

function setPath(root: Record<string, Json>, path: string, value: Json): void {
  const segments = path.split('/').filter(Boolean);
  let current = root;
  for (const segment of segments.slice(0, -1)) {
    if (typeof current[segment] !== 'object' || current[segment] === null) current[segment] = {};
    current = current[segment] as Record<string, Json>;
  }
  const last = segments.at(-1) as string;
  if (value === undefined) delete current[last];
  else current[last] = value;
}

/** The changed part of a thing, as Ditto's normalised SSE data has it. */
function partial(thingId: string, path: string, value: Json): Record<string, Json> {
  const out: Record<string, Json> = { thingId };
  if (path !== '/') setPath(out, path, value);
  else if (typeof value === 'object' && value !== null) Object.assign(out, value);
  return out;
}

/** A fake Ditto: things with revisions and a history, the change stream, the history stream and GET. */
class FakeDitto {
  readonly things = new Map<string, { state: Record<string, Json> | undefined; revision: number; history: Change[] }>();
  readonly streams = new Set<ServerResponse>();
  historyOff = false;
  streamConnections = 0;
  private waiters: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();
  private clock = Date.UTC(2026, 0, 1);
  readonly server = http.createServer((req, res) => this.handle(req.url ?? '/', req.headers.accept ?? '', res));
  baseUrl = '';

  async start(): Promise<void> {
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }

  /** Resolves once `n` change-stream connections were opened in all. */
  async connected(n: number): Promise<void> {
    while (this.streamConnections < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  change(thingId: string, action: Change['action'], path: string, given: Json): Change {
    const value = structuredClone(given);
    const thing = this.things.get(thingId) ?? { state: undefined, revision: 0, history: [] };
    this.things.set(thingId, thing);
    if (path === '/') thing.state = action === 'deleted' ? undefined : structuredClone({ thingId, ...(value as object) });
    else setPath((thing.state ??= { thingId }), path, action === 'deleted' ? undefined : structuredClone(value));
    thing.revision += 1;
    this.clock += 1000;
    const change: Change = {
      revision: thing.revision,
      action,
      path,
      value: action === 'deleted' ? null : value,
      modified: new Date(this.clock).toISOString(),
    };
    thing.history.push(change);
    for (const res of this.streams) res.write(this.event(thingId, change));
    return change;
  }

  /** Changes the stored state behind Ditto's back: no revision, no event. */
  tamper(thingId: string, path: string, value: Json): void {
    setPath(this.things.get(thingId)!.state!, path, value);
  }

  private event(thingId: string, change: Change): string {
    const topic = `${thingId.replace(':', '/')}/things/twin/events/${change.action}`;
    const data = {
      ...partial(thingId, change.path, change.value),
      _revision: change.revision,
      _modified: change.modified,
      _context: { topic, path: change.path, value: change.value, headers: {} },
    };
    return `data:${JSON.stringify(data)}\n\n`;
  }

  private handle(rawUrl: string, accept: string, res: ServerResponse): void {
    const url = new URL(rawUrl, 'http://127.0.0.1');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/2/things' && accept === 'text/event-stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      this.streamConnections += 1;
      for (const resolve of this.waiters.splice(0)) resolve();
      // A change that the auditor has already anchored comes again (as after a reconnect): it must be skipped.
      const lamp = this.things.get(LAMP);
      const last = lamp?.history.at(-1);
      if (last !== undefined) res.write(this.event(LAMP, last));
      return;
    }
    const thingId = decodeURIComponent(url.pathname.replace('/api/2/things/', ''));
    const thing = this.things.get(thingId);
    if (accept === 'text/event-stream') {
      if (this.historyOff) {
        json(400, {
          status: 400,
          error: 'signal.unsupported',
          message: "The provided signal 'streaming.subscribeForPersistedEvents' is not supported.",
        });
        return;
      }
      const from = Number(url.searchParams.get('from-historical-revision'));
      const to = Number(url.searchParams.get('to-historical-revision') ?? Number.MAX_SAFE_INTEGER);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const change of thing?.history ?? [])
        if (change.revision >= from && change.revision <= to) res.write(this.event(thingId, change));
      res.end();
      return;
    }
    if (thing?.state === undefined) {
      json(404, { status: 404, error: 'things:thing.notfound', message: `The Thing with ID '${thingId}' could not be found.` });
      return;
    }
    json(200, { ...thing.state, _revision: thing.revision });
  }
}

const root = mkdtempSync(join(tmpdir(), 'twinledger-auditor-'));
let ledger: DevLedger;
let store: EmbeddedStore;
let anchorer: Anchorer;
let counter = 0;
let fake: FakeDitto;
let ditto: DittoClient;
const auditors: TwinAuditor[] = [];

before(async () => {
  ledger = await DevLedger.open({ directory: join(root, 'ledger') });
  store = new EmbeddedStore({ dataDir: join(root, 'store') });
  anchorer = await Anchorer.open({ dataDir: join(root, 'anchorer'), ledger, store, batch: { maxWaitMs: 10 }, durable: false });
});

after(async () => {
  await anchorer?.close();
  await store?.close();
  await ledger?.close();
  rmSync(root, { recursive: true, force: true });
});

async function freshDitto(): Promise<void> {
  fake = new FakeDitto();
  await fake.start();
  ditto = new DittoClient({
    baseUrl: fake.baseUrl,
    credentials: { type: 'basic', username: 'ditto', password: 'ditto' },
    retry: new ExponentialBackoff({ initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 2 }),
  });
}

afterEach(async () => {
  for (const auditor of auditors.splice(0)) await auditor.stop();
  await ditto?.close();
  await fake?.close();
});

function checkpointFile(): string {
  counter += 1;
  return join(root, `audit-${counter}`, 'twin-auditor.jsonl');
}

async function start(options: Partial<TwinAuditorOptions> & { checkpoint: string }): Promise<TwinAuditor> {
  const auditor = await TwinAuditor.start({
    ditto,
    anchorer,
    tenant: 'acme',
    namespaces: [NS],
    retry: new ExponentialBackoff({ initialDelayMs: 1, maxDelayMs: 5, maxAttempts: Number.POSITIVE_INFINITY }),
    durable: false,
    ...options,
  });
  auditors.push(auditor);
  return auditor;
}

function recorder(auditor: TwinAuditor) {
  const appended: AuditAppendedEvent[] = [];
  const gaps: AuditGapEvent[] = [];
  auditor.on('appended', (event) => appended.push(event));
  auditor.on('gap', (event) => gaps.push(event));
  return { appended, gaps };
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A fresh Ditto, an auditor that anchors the lamp's creation and one change, then stops; its checkpoint and records. */
async function twoLampRecordsThenStop(): Promise<{ checkpoint: string; before: ReturnType<typeof recorder> }> {
  await freshDitto();
  const checkpoint = checkpointFile();
  const first = await start({ checkpoint });
  const before = recorder(first);
  await fake.connected(1);
  fake.change(LAMP, 'created', '/', { attributes: { on: false } });
  fake.change(LAMP, 'modified', '/attributes/on', true);
  await until('2 records', () => before.appended.length === 2);
  await first.stop();
  return { checkpoint, before };
}

/** Four changes of the lamp: created, an attribute modified, a feature merged, an attribute deleted. */
function lampChanges(): void {
  fake.change(LAMP, 'created', '/', { policyId: LAMP, attributes: { room: 'kitchen', on: false } });
  fake.change(LAMP, 'modified', '/attributes/on', true);
  fake.change(LAMP, 'merged', '/features', { lamp: { properties: { brightness: 80 } } });
  fake.change(LAMP, 'deleted', '/attributes/room', null);
}

function blockFile(cid: string): string {
  const dir = join(root, 'store', 'blocks');
  const name = `${base32upper.encode(CID.parse(cid).multihash.bytes)}.data`;
  const found = readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((file) => file.split('/').at(-1) === name);
  assert.ok(found, `no block file for ${cid}`);
  return join(dir, found);
}

describe('TwinAuditor: following the change stream', () => {
  it('anchors every change as a record (created / twin-change) whose proof verifies and whose payload is the change', async () => {
    await freshDitto();
    const auditor = await start({ checkpoint: checkpointFile() });
    const { appended } = recorder(auditor);
    await fake.connected(1);
    lampChanges();
    await until('4 records', () => appended.length === 4);
    assert.deepEqual(
      appended.map((event) => [event.revision, event.action, event.path, event.source]),
      [
        [1, 'created', '/', 'live'],
        [2, 'modified', '/attributes/on', 'live'],
        [3, 'merged', '/features', 'live'],
        [4, 'deleted', '/attributes/room', 'live'],
      ],
    );
    assert.deepEqual(auditor.checkpoints(), { [LAMP]: 4 });
    const kinds: string[] = [];
    for (const event of appended) {
      assert.equal(event.stream, 'acme/twin');
      const proof = await anchorer.proof(event.stream, event.seq);
      kinds.push(proof.envelope.kind);
      assert.equal(proof.envelope.thingId, LAMP);
      assert.equal((await verify(proof, { ledger, store })).ok, true);
      const payload = JSON.parse(Buffer.from(await store.get(proof.envelope.payloadCid)).toString('utf8')) as TwinChangeRecord;
      assert.equal(payload.revision, event.revision);
      assert.equal(payload.thingId, LAMP);
      assert.match(String(payload.timestamp), /^2026-01-01T/);
    }
    assert.deepEqual(kinds, ['created', 'twin-change', 'twin-change', 'twin-change']);
  });

  it('resumes after a restart: fills what changed while stopped from the history, without gaps or duplicates', async () => {
    const { checkpoint } = await twoLampRecordsThenStop();
    // While stopped: three changes nobody streams.
    fake.change(LAMP, 'modified', '/attributes/on', false);
    fake.change(LAMP, 'modified', '/attributes/level', 3);
    fake.change(LAMP, 'merged', '/attributes', { level: 4 });
    const second = await start({ checkpoint });
    const after = recorder(second);
    await until('the catch-up', () => after.appended.length === 3);
    await fake.connected(2);
    fake.change(LAMP, 'modified', '/attributes/on', true);
    await until('the live change', () => after.appended.length === 4);
    assert.deepEqual(
      after.appended.map((event) => [event.revision, event.source]),
      [
        [3, 'history'],
        [4, 'history'],
        [5, 'history'],
        [6, 'live'],
      ],
    );
    assert.deepEqual(after.gaps, []);
    assert.deepEqual(second.checkpoints(), { [LAMP]: 6 });
    const report = await second.auditThing(LAMP, { ledger, store });
    assert.equal(report.revisionsChecked, 6, 'each revision once');
    assert.deepEqual(report.divergences, []);
  });

  it('records a change once when a crash lost its checkpoint line after the outbox had it (idempotency key)', async () => {
    const { checkpoint, before } = await twoLampRecordsThenStop();
    const seqBefore = anchorer.status().streams.find((stream) => stream.stream === 'acme/twin')!.lastSeq;
    // The crash: the record of revision 2 is in the outbox, its checkpoint line is not.
    const lines = readFileSync(checkpoint, 'utf8').trimEnd().split('\n');
    writeFileSync(checkpoint, `${lines.slice(0, -1).join('\n')}\n`);
    const second = await start({ checkpoint });
    const after = recorder(second);
    await until('the catch-up', () => after.appended.length === 1);
    assert.deepEqual(
      after.appended.map((event) => [event.revision, event.source, event.seq]),
      [[2, 'history', before.appended[1]!.seq]],
      'the first record of revision 2, not a second one',
    );
    assert.equal(anchorer.status().streams.find((stream) => stream.stream === 'acme/twin')!.lastSeq, seqBefore);
    const report = await second.auditThing(LAMP, { ledger, store });
    assert.equal(report.revisionsChecked, 2);
    assert.deepEqual(report.divergences, []);
  });

  it('fills a gap seen in the live stream from the history, and reports (once) what the history does not hold', async () => {
    await freshDitto();
    const checkpoint = checkpointFile();
    const auditor = await start({ checkpoint });
    const { appended, gaps } = recorder(auditor);
    await fake.connected(1);
    fake.change(LAMP, 'created', '/', { attributes: { on: false } });
    await until('1 record', () => appended.length === 1);
    // Two changes the stream lost (a reconnect), then one it delivers: the two are filled from the history.
    const streams = [...fake.streams];
    fake.streams.clear();
    fake.change(LAMP, 'modified', '/attributes/on', true);
    fake.change(LAMP, 'modified', '/attributes/on', false);
    for (const res of streams) fake.streams.add(res);
    fake.change(LAMP, 'modified', '/attributes/level', 1);
    await until('3 more records', () => appended.length === 4);
    assert.deepEqual(
      appended.map((event) => [event.revision, event.source]),
      [
        [1, 'live'],
        [2, 'history'],
        [3, 'history'],
        [4, 'live'],
      ],
    );
    // Now without history: the lost revision is a gap.
    fake.historyOff = true;
    fake.streams.clear();
    fake.change(LAMP, 'modified', '/attributes/level', 2);
    for (const res of streams) fake.streams.add(res);
    fake.change(LAMP, 'modified', '/attributes/level', 3);
    await until('the record after the gap', () => appended.length === 5);
    assert.deepEqual(
      gaps.map((gap) => [gap.fromRevision, gap.toRevision]),
      [[5, 5]],
    );
    assert.match(gaps[0]!.reason, /history could not be read.*not supported/);
    const report = await auditor.auditThing(LAMP, { ledger, store });
    assert.equal(report.ok, false);
    assert.equal(report.history.compared, false);
    assert.deepEqual(
      report.divergences.map((d) => [d.kind, d.revision]),
      [['missing-record', 5]],
    );
    assert.match(report.divergences[0]!.reason, /reported it as a gap/);
  });
});

describe('TwinAuditor: auditThing', () => {
  it('reports a twin whose anchored history matches Ditto as ok, compared with the history', async () => {
    await freshDitto();
    const auditor = await start({ checkpoint: checkpointFile() });
    const { appended } = recorder(auditor);
    await fake.connected(1);
    lampChanges();
    await until('4 records', () => appended.length === 4);
    // Without a ledger and a store, the anchorer's are used.
    const report = await auditor.auditThing(LAMP);
    assert.deepEqual(await auditor.auditThing(LAMP, { ledger, store }), report);
    assert.deepEqual(report, {
      thingId: LAMP,
      ok: true,
      revisionsChecked: 4,
      dittoRevision: 4,
      history: { compared: true, reason: "compared with Ditto's history of revisions 1..4" },
      divergences: [],
    });
  });

  it('names a value changed in Ditto without a record: missing-record with the revision, value-differs with the path', async () => {
    await freshDitto();
    const auditor = await start({ checkpoint: checkpointFile() });
    const { appended } = recorder(auditor);
    await fake.connected(1);
    lampChanges();
    await until('4 records', () => appended.length === 4);
    await auditor.stop();
    fake.change(LAMP, 'modified', '/attributes/on', false);
    const missing = await auditor.auditThing(LAMP, { ledger, store });
    assert.equal(missing.ok, false);
    assert.equal(missing.dittoRevision, 5);
    assert.deepEqual(
      missing.divergences.map((d) => [d.kind, d.revision, d.path, d.anchored, d.ditto]),
      [
        ['missing-record', 5, '/attributes/on', undefined, false],
        ['value-differs', undefined, '/attributes/on', true, false],
      ],
    );
    // Behind Ditto's back (no revision, no event): only the state tells.
    fake.tamper(LAMP, '/features/lamp/properties/brightness', 5);
    const tampered = await auditor.auditThing(LAMP, { ledger, store, history: false });
    const differs = tampered.divergences.filter((d) => d.kind === 'value-differs');
    assert.deepEqual(
      differs.map((d) => [d.path, d.anchored, d.ditto]),
      [
        ['/attributes/on', true, false],
        ['/features/lamp/properties/brightness', 80, 5],
      ],
    );
    assert.equal(tampered.history.compared, false);
  });

  it('reports a record whose payload was tampered with in the store as proof-failed', async () => {
    await freshDitto();
    const auditor = await start({ checkpoint: checkpointFile() });
    const { appended } = recorder(auditor);
    await fake.connected(1);
    lampChanges();
    await until('4 records', () => appended.length === 4);
    const target = appended[1]!;
    const proof = await anchorer.proof(target.stream, target.seq);
    const file = blockFile(proof.payloadCid);
    const original = readFileSync(file);
    const changed = Buffer.from(original);
    changed[changed.length - 2] = (changed[changed.length - 2] ?? 0) ^ 0x01;
    writeFileSync(file, changed);
    try {
      const report = await auditor.auditThing(LAMP, { ledger, store });
      assert.equal(report.ok, false);
      const failed = report.divergences.filter((d) => d.kind === 'proof-failed');
      assert.deepEqual(
        failed.map((d) => d.revision),
        [2],
      );
      assert.match(failed[0]!.reason, /payload failed/);
    } finally {
      writeFileSync(file, original);
    }
    assert.equal((await auditor.auditThing(LAMP, { ledger, store })).ok, true);
  });

  it('accepts a deletion anchored as a `deleted` record; reports one that happened while stopped (a gap, then missing-record)', async () => {
    await freshDitto();
    const checkpoint = checkpointFile();
    const LAMP2 = `${NS}:lamp-2`;
    const auditor = await start({ checkpoint });
    const { appended } = recorder(auditor);
    await fake.connected(1);
    fake.change(LAMP, 'created', '/', { attributes: { on: true } });
    fake.change(LAMP2, 'created', '/', { attributes: { on: true } });
    fake.change(LAMP, 'deleted', '/', null);
    await until('3 records', () => appended.length === 3);
    const deletion = await anchorer.proof(appended[2]!.stream, appended[2]!.seq);
    assert.equal(deletion.envelope.kind, 'deleted');
    const deleted = await auditor.auditThing(LAMP, { ledger, store });
    assert.deepEqual([deleted.ok, deleted.dittoRevision, deleted.divergences], [true, undefined, []]);
    await auditor.stop();
    fake.change(LAMP2, 'deleted', '/', null);
    const restarted = await start({ checkpoint });
    const { gaps } = recorder(restarted);
    await until('the gap', () => gaps.length === 1);
    assert.deepEqual([gaps[0]!.thingId, gaps[0]!.fromRevision, gaps[0]!.toRevision], [LAMP2, 2, undefined]);
    const report = await restarted.auditThing(LAMP2, { ledger, store });
    assert.deepEqual(
      report.divergences.map((d) => d.kind),
      ['missing-record'],
    );
    assert.match(report.divergences[0]!.reason, /not its deletion/);
  });
});

describe('TwinAuditor: options', () => {
  it('refuses bad options before opening anything, and a second auditor on the same checkpoint', async () => {
    await freshDitto();
    const checkpoint = checkpointFile();
    await assert.rejects(start({ checkpoint, thingIds: [LAMP] }), ValidationError);
    await assert.rejects(start({ checkpoint: '' }), ValidationError);
    await assert.rejects(start({ checkpoint, stream: 'a/b' }), ValidationError);
    await assert.rejects(start({ checkpoint, namespaces: ['not a namespace!'] }), ValidationError);
    const idle = await start({ checkpoint, follow: false });
    await assert.rejects(
      start({ checkpoint }),
      (error: unknown) => error instanceof TwinLedgerError && error.code === 'anchor.auditor_locked',
    );
    await idle.stop();
    // A line cut short by a crash is dropped; the complete ones are the checkpoint.
    writeFileSync(checkpoint, '{"t":"record","thingId":"org.acme:lamp-1","revision":3,"stream":"acme/twin","seq":1}\n{"t":"rec');
    const reopened = await start({ checkpoint, follow: false });
    assert.deepEqual(reopened.checkpoints(), { [LAMP]: 3 });
    await reopened.stop();
    assert.equal(readFileSync(checkpoint, 'utf8').split('\n').length, 2);
  });
});
