/** Hono's Kafka topic names and subscribing to topics that may not exist yet. */
import type { Consumer } from 'kafkajs';
import { sleep } from '../core/retry.js';

export type HonoTopicKind = 'telemetry' | 'event' | 'command' | 'command_response';

export function honoTopic(kind: HonoTopicKind, tenantId: string): string {
  return `hono.${kind}.${tenantId}`;
}

/** Errors the broker answers while it auto-creates a topic a metadata request asked for. */
const TOPIC_BEING_CREATED = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

export function isUnknownTopic(error: unknown): boolean {
  return TOPIC_BEING_CREATED.has((error as { type?: unknown } | null)?.type as string);
}

/**
 * `consumer.subscribe` fails at once for a topic that does not exist yet, though its metadata request makes a
 * broker with `auto.create.topics.enable` create it. Hono's tenant topics appear on first use, so try again
 * for a few seconds while the topic is being created.
 */
export async function subscribeCreatingTopic(consumer: Consumer, topic: string, fromBeginning: boolean, waitMs = 10_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await consumer.subscribe({ topic, fromBeginning });
      return;
    } catch (error) {
      if (!isUnknownTopic(error) || Date.now() >= deadline) throw error;
      await sleep(Math.min(1_000, 100 * attempt));
    }
  }
}
