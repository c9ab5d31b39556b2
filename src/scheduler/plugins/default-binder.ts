import type { Pod } from 'kubernetes-types/core/v1';
import type { Client } from '../../client/client.js';
import { Status, type BindPlugin, type CycleState } from '../framework.js';

/** Binds through the `pods/binding` subresource; the pod's uid guards against binding a recreated namesake. */
export class DefaultBinder implements BindPlugin {
  static readonly pluginName = 'DefaultBinder';
  constructor(private readonly client: Client | undefined) {}
  name(): string { return DefaultBinder.pluginName; }
  async bind(_state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    if (!this.client) return Status.error('DefaultBinder: no API client');
    await this.client.bind(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '', nodeName, { uid: pod.metadata?.uid });
    return Status.success();
  }
}
