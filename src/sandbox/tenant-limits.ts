/**
 * A tenant's `resource-limits` as Hono's protocol adapters enforce them (Hono's "Resource limits" concept and the
 * registry's `ResourceLimit` schema): `max-connections` (concurrent device connections of the tenant, checked when a
 * device connects) and `data-volume` (bytes the tenant's devices may send per accounting period, `monthly` or every
 * `no-of-days` days from `effective-since`, each message counted at least `minimum-message-size` rounded up). A
 * message that would take the period's volume past `max-bytes` is refused (HTTP 429); a device connecting while the
 * volume is used up or the connections are at their maximum is refused too. Usage is counted in memory: a restarted
 * sandbox starts the period's count afresh (Hono reads it from Prometheus).
 */
import type { JsonObject } from './registry-model.js';
import type { RegistryStore } from './registry-store.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Why a device or a message of the tenant is refused. */
export interface LimitRefusal {
  /** `connections`: the tenant's `max-connections`; `data-volume`: the period's `max-bytes`. */
  limit: 'connections' | 'data-volume';
  message: string;
}

/** A device connection counted against its tenant's `max-connections` until released. */
export interface AdmittedConnection {
  release(): void;
}

function objectAt(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function limitAt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** Start (ms) of the accounting period `now` falls in, or undefined before `effective-since` or for a malformed plan. */
export function periodStart(dataVolume: JsonObject, now: number): number | undefined {
  const since = typeof dataVolume['effective-since'] === 'string' ? Date.parse(dataVolume['effective-since']) : Number.NaN;
  if (Number.isNaN(since) || now < since) return undefined;
  const period = objectAt(dataVolume.period);
  if (period?.mode === 'days') {
    const days = limitAt(period['no-of-days']);
    if (days === undefined || days === 0) return undefined;
    const length = days * DAY_MS;
    return since + Math.floor((now - since) / length) * length;
  }
  const date = new Date(now);
  const monthStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  return Math.max(since, monthStart);
}

export class TenantLimits {
  private readonly connections = new Map<string, number>();
  private readonly usage = new Map<string, { periodStart: number; bytes: number }>();

  constructor(
    private readonly registry: RegistryStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a new device connection of the tenant, or says why the tenant may not connect another device now. */
  connect(tenant: string): AdmittedConnection | LimitRefusal {
    const limits = this.limitsOf(tenant);
    const max = limitAt(limits?.['max-connections']);
    const open = this.connections.get(tenant) ?? 0;
    if (max !== undefined && open >= max) {
      return { limit: 'connections', message: `the tenant's connection limit (${max}) is reached` };
    }
    const volume = this.volumeOf(tenant, limits);
    if (volume !== undefined && volume.usage.bytes + 1 > volume.maxBytes) return volumeRefusal(volume.maxBytes);
    this.connections.set(tenant, open + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.connections.get(tenant) ?? 1) - 1;
        if (left <= 0) this.connections.delete(tenant);
        else this.connections.set(tenant, left);
      },
    };
  }

  /** Counts a message of `payloadBytes` against the tenant's data volume; a refusal when it does not fit. */
  charge(tenant: string, payloadBytes: number): LimitRefusal | undefined {
    const tenantConfig = this.registry.enabledTenant(tenant);
    const volume = this.volumeOf(tenant, objectAt(tenantConfig?.['resource-limits']));
    if (volume === undefined) return undefined;
    const minimum = limitAt(tenantConfig?.['minimum-message-size']) ?? 0;
    const size = minimum === 0 ? payloadBytes : Math.max(1, Math.ceil(payloadBytes / minimum)) * minimum;
    if (volume.usage.bytes + size > volume.maxBytes) return volumeRefusal(volume.maxBytes);
    volume.usage.bytes += size;
    return undefined;
  }

  private limitsOf(tenant: string): JsonObject | undefined {
    return objectAt(this.registry.enabledTenant(tenant)?.['resource-limits']);
  }

  /**
   * The tenant's `max-bytes` and its usage in the current period (reset when a new period began); undefined when no
   * volume limit applies now.
   */
  private volumeOf(
    tenant: string,
    limits: JsonObject | undefined,
  ): { maxBytes: number; usage: { periodStart: number; bytes: number } } | undefined {
    const dataVolume = objectAt(limits?.['data-volume']);
    const maxBytes = limitAt(dataVolume?.['max-bytes']);
    if (dataVolume === undefined || maxBytes === undefined) return undefined;
    const start = periodStart(dataVolume, this.now());
    if (start === undefined) return undefined;
    let usage = this.usage.get(tenant);
    if (usage === undefined || usage.periodStart !== start) {
      usage = { periodStart: start, bytes: 0 };
      this.usage.set(tenant, usage);
    }
    return { maxBytes, usage };
  }
}

function volumeRefusal(maxBytes: number): LimitRefusal {
  return { limit: 'data-volume', message: `the tenant's data volume for this period (${maxBytes} bytes) is used up` };
}
