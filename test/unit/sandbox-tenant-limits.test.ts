// The accounting periods and counting of a tenant's resource-limits in the sandbox's Hono (Period schema of the
// device registry API: `monthly` from the 1st of each month UTC, `days` every no-of-days from effective-since).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RegistryStore } from '../../src/sandbox/registry-store.js';
import { TenantLimits, periodStart } from '../../src/sandbox/tenant-limits.js';

const at = (iso: string) => Date.parse(iso);

describe('sandbox: tenant limits', () => {
  it('periods: monthly starts at the 1st UTC (not before effective-since), days every N days from effective-since, none before it', () => {
    const monthly = { 'effective-since': '2026-11-15T10:00:00Z', 'max-bytes': 10, period: { mode: 'monthly' } };
    assert.equal(periodStart(monthly, at('2026-11-20T00:00:00Z')), at('2026-11-15T10:00:00Z'));
    assert.equal(periodStart(monthly, at('2026-12-07T08:00:00Z')), at('2026-12-01T00:00:00Z'));
    assert.equal(periodStart(monthly, at('2026-11-01T00:00:00Z')), undefined);
    const days = { 'effective-since': '2026-11-01T00:00:00Z', 'max-bytes': 10, period: { mode: 'days', 'no-of-days': 10 } };
    assert.equal(periodStart(days, at('2026-11-10T23:59:59Z')), at('2026-11-01T00:00:00Z'));
    assert.equal(periodStart(days, at('2026-11-11T00:00:00Z')), at('2026-11-11T00:00:00Z'));
    assert.equal(periodStart(days, at('2026-12-07T00:00:00Z')), at('2026-12-01T00:00:00Z'));
    assert.equal(periodStart({ 'max-bytes': 10 }, at('2026-12-07T00:00:00Z')), undefined, 'no effective-since: no limit');
  });

  it('counts each message at least minimum-message-size, refuses what does not fit, and starts afresh in a new period', () => {
    let now = at('2026-11-05T00:00:00Z');
    const tenant = {
      'minimum-message-size': 40,
      'resource-limits': {
        'max-connections': 2,
        'data-volume': { 'effective-since': '2026-11-01T00:00:00Z', 'max-bytes': 100, period: { mode: 'days', 'no-of-days': 10 } },
      },
    };
    const registry = { enabledTenant: (id: string) => (id === 't' ? tenant : undefined) } as unknown as RegistryStore;
    const limits = new TenantLimits(registry, () => now);
    assert.equal(limits.charge('t', 1), undefined, '1 byte counts as 40');
    assert.equal(limits.charge('t', 41)?.limit, 'data-volume', '41 bytes count as 80: 120 > 100');
    assert.equal(limits.charge('t', 20), undefined, '40 more: 80');
    assert.equal(limits.charge('t', 1)?.limit, 'data-volume');
    assert.equal(limits.charge('other', 1_000_000), undefined, 'a tenant without limits');

    const first = limits.connect('t');
    assert.ok(!('limit' in first), 'a connection still fits: 80 + 1 ≤ 100');
    const second = limits.connect('t');
    assert.ok(!('limit' in second));
    const third = limits.connect('t');
    assert.ok('limit' in third && third.limit === 'connections');
    second.release();
    second.release();
    const replacement = limits.connect('t');
    assert.ok(!('limit' in replacement), 'a released connection makes room once');
    assert.ok('limit' in limits.connect('t'));

    assert.equal(limits.charge('t', 20)?.limit, 'data-volume', '20 bytes count as 40: 120 > 100');
    tenant['minimum-message-size'] = 0;
    assert.equal(limits.charge('t', 20), undefined, 'without a minimum: 100 of 100');
    first.release();
    const full = limits.connect('t');
    assert.ok('limit' in full && full.limit === 'data-volume', 'the volume is used up: no new connections');

    now = at('2026-11-11T00:00:01Z');
    assert.equal(limits.charge('t', 60), undefined, 'a new period starts at zero');
  });
});
