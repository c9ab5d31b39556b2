import type { Plugin } from '../framework.js';
import type { QueuedPodInfo } from '../queue.js';

/** The QueueSort plugin: higher priority first, then earlier enqueue time (what the scheduling queue's activeQ does). */
export class PrioritySort implements Plugin {
  static readonly pluginName = 'PrioritySort';
  name(): string { return PrioritySort.pluginName; }
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    return a.priority > b.priority || (a.priority === b.priority && a.timestamp < b.timestamp);
  }
}
