/**
 * The offset commits of a Kafka stream (OffsetCommitter) against a scripted `send`: a failed commit must not
 * stop the ones after it, commits run one at a time, a failing broker is not asked once per record, and
 * commits that keep failing reach the caller as KafkaCommitError. The real-broker counterpart (a broker restart
 * mid-stream) is in test/integration/northbound-kafka.test.ts.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../../src/core/logger.js';
import { type CommitterHost, OffsetCommitter, type PartitionOffset } from '../../src/northbound/kafka-commit.js';
import { KafkaCommitError } from '../../src/northbound/errors.js';

interface Scripted {
  host: CommitterHost;
  sent: PartitionOffset[][];
  reports: KafkaCommitError[];
  logs: string[];
  /** What the next `send` does: resolve, reject, or stay pending until the test settles it. */
  outcomes: Array<'ok' | 'fail' | 'hold'>;
  held: Array<{ resolve: () => void; reject: (error: Error) => void }>;
}

function scripted(overrides: Partial<CommitterHost> = {}): Scripted {
  const sent: PartitionOffset[][] = [];
  const reports: KafkaCommitError[] = [];
  const logs: string[] = [];
  const outcomes: Scripted['outcomes'] = [];
  const held: Scripted['held'] = [];
  const log = (level: string) => (message: string) => void logs.push(`${level} ${message}`);
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const host: CommitterHost = {
    topic: 'hono.event.t1',
    groupId: 'g.event.t1',
    logger,
    // Long enough that no retry timer fires during a test: each test drives the commits with flush().
    commitIntervalMs: 600_000,
    commitThreshold: 1_000,
    commitErrorAfterMs: 600_000,
    send: (offsets) => {
      sent.push(offsets);
      const outcome = outcomes.shift() ?? 'ok';
      if (outcome === 'ok') return Promise.resolve();
      if (outcome === 'fail') return Promise.reject(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'));
      return new Promise<void>((resolve, reject) => held.push({ resolve, reject }));
    },
    failing: (error) => void reports.push(error),
    ...overrides,
  };
  return { host, sent, reports, logs, outcomes, held };
}

describe('Kafka offset commits (OffsetCommitter)', () => {
  const committers: OffsetCommitter[] = [];
  const make = (host: CommitterHost) => {
    const committer = new OffsetCommitter(host);
    committers.push(committer);
    return committer;
  };
  afterEach(() => {
    for (const committer of committers.splice(0)) committer.stop();
  });

  it('a failed commit does not stop the commits after it: the next one commits everything processed since', async () => {
    const s = scripted();
    const committer = make(s.host);
    s.outcomes.push('fail', 'ok', 'ok');
    for (let offset = 0; offset < 5; offset += 1) committer.processed(0, offset);
    assert.equal(await committer.flush(), false);
    assert.equal(committer.failing, true);
    assert.equal(committer.uncommittedRecords, 5);
    for (let offset = 5; offset < 8; offset += 1) committer.processed(0, offset);
    assert.equal(await committer.flush(), true);
    committer.processed(0, 8);
    assert.equal(await committer.flush(), true);
    assert.deepEqual(s.sent, [[{ partition: 0, offset: '5' }], [{ partition: 0, offset: '8' }], [{ partition: 0, offset: '9' }]]);
    assert.equal(committer.failing, false);
    assert.equal(committer.uncommittedRecords, 0);
    assert.deepEqual(s.logs, [
      'warn committing Kafka offsets failed; trying again every 600000 ms',
      'info Kafka offset commits work again',
    ]);
  });

  it('runs one commit at a time: a flush during a commit queues one more, which covers what was processed meanwhile', async () => {
    const s = scripted();
    const committer = make(s.host);
    s.outcomes.push('hold', 'ok');
    committer.processed(0, 0);
    committer.processed(1, 10);
    const firstCommit = committer.flush();
    committer.processed(0, 1);
    const second = committer.flush();
    committer.processed(1, 11);
    const third = committer.flush();
    assert.equal(second, third, 'flushes while one is queued join it');
    assert.equal(s.sent.length, 1, 'nothing is sent while a commit is in flight');
    // The commit in flight fails; the queued one still runs, with the newest offsets of both partitions.
    s.held.shift()!.reject(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'));
    assert.equal(await firstCommit, false);
    assert.equal(await second, true);
    assert.deepEqual(s.sent[1], [
      { partition: 0, offset: '2' },
      { partition: 1, offset: '12' },
    ]);
    assert.equal(committer.uncommittedRecords, 0);
  });

  it('keeps the offsets of a failed commit unless newer ones were processed meanwhile', async () => {
    const s = scripted();
    const committer = make(s.host);
    s.outcomes.push('hold', 'ok');
    committer.processed(0, 4);
    committer.processed(1, 7);
    const inFlight = committer.flush();
    committer.processed(0, 5);
    s.held.shift()!.reject(new Error('Request Metadata(key: 3, version: 6) timed out'));
    assert.equal(await inFlight, false);
    assert.equal(await committer.flush(), true);
    assert.deepEqual(s.sent[1], [
      { partition: 0, offset: '6' },
      { partition: 1, offset: '8' },
    ]);
  });

  it('while commits fail, new records do not trigger more attempts than one per commitIntervalMs', async () => {
    const s = scripted({ commitThreshold: 1 });
    const committer = make(s.host);
    s.outcomes.push('fail');
    committer.processed(0, 0); // reaches the threshold: commits at once, and fails
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(s.sent.length, 1);
    assert.equal(committer.failing, true);
    for (let offset = 1; offset < 50; offset += 1) committer.processed(0, offset);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(s.sent.length, 1, 'the retry waits for its timer');
    assert.equal(await committer.flush(), true);
    assert.deepEqual(s.sent[1], [{ partition: 0, offset: '50' }]);
  });

  it('forgets the offsets of partitions that went to another member of the group', async () => {
    const s = scripted();
    const committer = make(s.host);
    committer.processed(0, 3);
    committer.processed(1, 9);
    committer.retain(new Set([1]));
    committer.processed(0, 4); // a record of a revoked partition that the loop finished late
    assert.equal(await committer.flush(), true);
    assert.deepEqual(s.sent, [[{ partition: 1, offset: '10' }]]);
  });

  it('reports KafkaCommitError once when commits keep failing for commitErrorAfterMs, and again after a recovery', async () => {
    let reported: (error: KafkaCommitError) => void = () => undefined;
    const s = scripted({ commitErrorAfterMs: 1, failing: (error) => reported(error) });
    const committer = make(s.host);
    const firstReport = new Promise<KafkaCommitError>((resolve) => {
      reported = resolve;
    });
    s.outcomes.push('fail', 'fail');
    for (let offset = 0; offset < 3; offset += 1) committer.processed(0, offset);
    assert.equal(await committer.flush(), false);
    const error = await firstReport;
    assert.ok(error instanceof KafkaCommitError);
    assert.equal(error.code, 'northbound.kafka-commit');
    assert.equal(error.topic, 'hono.event.t1');
    assert.equal(error.groupId, 'g.event.t1');
    assert.equal(error.failedAttempts, 1);
    assert.equal(error.uncommittedRecords, 3);
    assert.match(
      error.message,
      /offsets of hono\.event\.t1 \(group g\.event\.t1\) have not been committed for \d+ ms \(1 failed attempts; 3 processed records not committed\): Connection error/,
    );
    assert.ok(error.hint);
    let later = 0;
    reported = () => {
      later += 1;
    };
    assert.equal(await committer.flush(), false); // still failing: no second report for the same run
    assert.equal(await committer.flush(), true);
    const secondReport = new Promise<KafkaCommitError>((resolve) => {
      reported = resolve;
    });
    s.outcomes.push('fail');
    committer.processed(0, 3);
    assert.equal(await committer.flush(), false);
    assert.equal((await secondReport).failedAttempts, 1, 'a new run of failures counts from 1');
    assert.equal(later, 0);
  });

  it('stop() ends retries and reports: a commit that fails afterwards schedules nothing', async () => {
    const s = scripted({ commitErrorAfterMs: 1 });
    const committer = make(s.host);
    s.outcomes.push('hold');
    committer.processed(0, 0);
    const inFlight = committer.flush();
    committer.stop();
    s.held.shift()!.reject(new Error('Closed connection'));
    assert.equal(await inFlight, false);
    committer.processed(0, 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(s.reports.length, 0);
    assert.equal(s.sent.length, 1);
  });
});
