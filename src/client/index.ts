/**
 * The client library every bosun component uses, as a user program would:
 *
 * ```ts
 * const client = await Client.fromKubeconfig('/var/lib/bosun/kubeconfig.yaml');
 * const pod = await client.get(pods, 'default', 'web');          // a Pod
 * const informers = new InformerFactory(client);
 * const queue = new WorkQueue<string>();
 * informers.for(pods).onChange((p) => queue.add(keyOf(p)));
 * informers.start(signal);
 * await informers.waitForSync(signal);
 * await queue.process(2, (key) => reconcile(key), signal);
 * ```
 */
export * from './client.js';
export * from './errors.js';
export * from './kubeconfig.js';
export * from './rate-limiter.js';
export * from './resources.js';
export * from './watch.js';
export * from './informer.js';
export * from './object-store.js';
export * from './work-queue.js';
export * from './leader-election.js';
export * from './event-recorder.js';
