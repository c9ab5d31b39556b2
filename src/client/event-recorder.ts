import type { Event, ObjectReference } from 'kubernetes-types/core/v1';
import type { Client } from './client.js';
import { events, type KubeObject } from './resources.js';
import { isAlreadyExists, isNotFound } from './errors.js';

export type EventType = 'Normal' | 'Warning';

/** Repeats of one event within this window raise its count instead of making a new object, as client-go's correlator does. */
const AGGREGATION_WINDOW_MS = 10 * 60_000;

interface Seen { name: string; namespace: string; count: number; last: number }

/**
 * Records core/v1 Events about objects (`SuccessfulCreate`, `FailedScheduling`…),
 * de-duplicated: the same object, reason, message and type again bumps `count`
 * and `lastTimestamp` of the first Event. Recording never throws — an event is
 * a hint for humans, and losing one must not fail the caller's work.
 */
export class EventRecorder {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly client: Client, private readonly component: string, private readonly host?: string) {}

  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    void this.record(obj, type, reason, message).catch(() => {});
  }

  /** Like `event`, but resolves when the Event is written (tests, shutdown). */
  async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace || 'default';
    const involved: ObjectReference = {
      kind: obj.kind, apiVersion: obj.apiVersion, name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion,
    };
    const key = [meta.uid ?? `${namespace}/${meta.name}`, type, reason, message].join('\u0000');
    const now = Date.now();
    const timestamp = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const previous = this.seen.get(key);
    if (previous && now - previous.last < AGGREGATION_WINDOW_MS) {
      previous.count += 1;
      previous.last = now;
      try {
        await this.client.patch(events, previous.namespace, previous.name, { count: previous.count, lastTimestamp: timestamp }, 'merge-patch');
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // Expired or deleted: start a fresh Event below.
      }
    }
    const name = `${meta.name ?? 'unknown'}.${(now * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`;
    const event: Event = {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace },
      involvedObject: involved,
      reason, message, type,
      count: 1,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component: this.component, ...(this.host ? { host: this.host } : {}) },
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
    };
    try {
      await this.client.create(events, event as KubeObject as Event);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    this.seen.set(key, { name, namespace, count: 1, last: now });
    if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value!);
  }
}
