import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1';
import { servicesTable } from './services.js';
import { ago, cellsOf, rowOf, SECOND } from './test-helpers.js';

const metadata = { name: 'web', namespace: 'default', creationTimestamp: ago(200 * SECOND) };

test('service columns', () => {
  assert.deepEqual(servicesTable.columns.map((c) => [c.name, c.priority]), [
    ['Name', 0], ['Type', 0], ['Cluster-IP', 0], ['External-IP', 0], ['Port(s)', 0], ['Age', 0], ['Selector', 1],
  ]);
});

test('a NodePort service', () => {
  const svc: Service = {
    metadata,
    spec: {
      type: 'NodePort', clusterIP: '10.43.12.7', clusterIPs: ['10.43.12.7'], selector: { app: 'web', tier: 'front' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }],
    },
  };
  assert.deepEqual(rowOf(servicesTable, svc), ['web', 'NodePort', '10.43.12.7', '<none>', '80:30080/TCP,53/UDP', '3m20s', 'app=web,tier=front']);
});

test('cluster IPs, external IPs and load balancers', () => {
  const plain = cellsOf(servicesTable, { metadata, spec: { clusterIP: '10.43.0.1', ports: [{ port: 443 }] } });
  assert.deepEqual([plain.Type, plain['Cluster-IP'], plain['External-IP'], plain['Port(s)'], plain.Selector], ['ClusterIP', '10.43.0.1', '<none>', '443/TCP', '<none>']);

  const headless = cellsOf(servicesTable, { metadata, spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], externalIPs: ['192.0.2.1', '192.0.2.2'] } });
  assert.deepEqual([headless['Cluster-IP'], headless['External-IP'], headless['Port(s)']], ['None', '192.0.2.1,192.0.2.2', '<none>']);

  const pending = cellsOf(servicesTable, { metadata, spec: { type: 'LoadBalancer', clusterIPs: ['10.43.0.9'], ports: [{ port: 80, nodePort: 31000 }] } });
  assert.deepEqual([pending['External-IP'], pending['Port(s)']], ['<pending>', '80:31000/TCP']);

  const lb: Service = {
    metadata, spec: { type: 'LoadBalancer', clusterIPs: ['10.43.0.9'], externalIPs: ['192.0.2.9'] },
    status: { loadBalancer: { ingress: [{ ip: '198.51.100.2' }, { hostname: 'lb.example.com' }, { ip: '198.51.100.2' }] } },
  };
  assert.equal(cellsOf(servicesTable, lb)['External-IP'], '198.51.100.2,lb.example.com,192.0.2.9');

  const external = cellsOf(servicesTable, { metadata, spec: { type: 'ExternalName', externalName: 'db.example.com' } });
  assert.deepEqual([external['Cluster-IP'], external['External-IP']], ['<none>', 'db.example.com']);
});
