import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, nodes } from '../client/index.js';
import { startTestServer } from '../../test/helpers/server.js';
import { startHollowNodes } from './hollow-cluster.js';

// A measurement, not a timing assertion: the figure is printed for the record.
test('5,000 hollow nodes register (time printed)', { timeout: 120_000 }, async () => {
  const srv = await startTestServer();
  const client = await Client.fromKubeconfig(srv.kubeconfig, { qps: 0 });
  try {
    const started = Date.now();
    const sim = await startHollowNodes({ client, count: 5000 });
    const seconds = (Date.now() - started) / 1000;
    try {
      const list = await client.listAll(nodes, { labelSelector: 'node.bosun.io/hollow=true' });
      assert.equal(list.items.length, 5000);
      const cidrs = new Set(list.items.map((n) => n.spec?.podCIDR));
      assert.equal(cidrs.size, 5000, 'every node has its own pod CIDR');
      console.log(`5000 hollow nodes registered in ${seconds.toFixed(1)} s (server and simulator in one process), rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
    } finally {
      await sim.stop();
    }
  } finally {
    client.close();
    await srv.stop();
  }
});
