/**
 * The patches kubectl sends, against the real generated OpenAPI definitions
 * (src/apiserver/openapi/schemas.ts), so that a patch metadata entry lost
 * from the generator shows up as a wrong merge here.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../strategy.js';
import { DEFINITIONS_FILE, repoRoot, schemaLookup } from '../openapi/schemas.js';
import { APPLY_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, applyPatch } from './index.js';

const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };
const SERVICE = { group: '', version: 'v1', kind: 'Service' };
const NODE = { group: '', version: 'v1', kind: 'Node' };

before(() => {
  // a fresh checkout has not run scripts/setup.sh's generation step yet
  if (!existsSync(join(repoRoot(), DEFINITIONS_FILE))) {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen-openapi.ts'], { cwd: repoRoot(), stdio: 'ignore' });
  }
});

/** A deployment as the server holds it after defaulting. */
function liveDeployment(): KubeObject {
  const container = (name: string, image: string, extra: Record<string, unknown> = {}) => ({
    name, image, imagePullPolicy: 'IfNotPresent', resources: {},
    terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', ...extra,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', generation: 1,
      labels: { app: 'web', tier: 'frontend' },
      annotations: { 'deployment.kubernetes.io/revision': '1', 'kubectl.kubernetes.io/last-applied-configuration': '{}\n' },
    },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            container('web', 'nginx:1', {
              ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443, protocol: 'TCP' }],
              env: [{ name: 'A', value: '1' }],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }),
            container('sidecar', 'busybox', { args: ['sleep', '3600'] }),
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }],
          restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler',
          terminationGracePeriodSeconds: 30, securityContext: {},
        },
      },
    },
    status: { observedGeneration: 1, replicas: 2, conditions: [{ type: 'Available', status: 'True' }] },
  };
}

type Pod = { containers: Array<Record<string, unknown>> } & Record<string, unknown>;
const podSpec = (obj: KubeObject) => (obj.spec as { template: { spec: Pod } }).template.spec;
const smp = (obj: KubeObject, body: unknown, gvk = DEPLOYMENT) =>
  applyPatch(obj, JSON.stringify(body), STRATEGIC_MERGE_PATCH, gvk, schemaLookup);

describe('kubectl apply against the real schemas', () => {
  it('changes an image and keeps the server-defaulted fields', () => {
    const out = smp(liveDeployment(), {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":1}\n' } },
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }], containers: [{ image: 'nginx:2', name: 'web' }] } } },
    });
    const web = podSpec(out).containers[0];
    assert.equal(web.image, 'nginx:2');
    assert.equal(web.imagePullPolicy, 'IfNotPresent');
    assert.equal((web.ports as unknown[]).length, 2);
    assert.deepEqual(podSpec(out).containers.map((c) => c.name), ['web', 'sidecar']);
    assert.equal(out.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.deepEqual(out.status, liveDeployment().status);
  });

  it('adds env, removes a port and a volume mount by merge key', () => {
    const out = smp(liveDeployment(), {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }],
            containers: [{
              '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }],
              '$setElementOrder/ports': [{ containerPort: 80 }],
              env: [{ name: 'B', value: '2' }],
              name: 'web',
              ports: [{ $patch: 'delete', containerPort: 443 }],
              volumeMounts: [{ $patch: 'delete', mountPath: '/data' }],
            }],
          },
        },
      },
    });
    const web = podSpec(out).containers[0];
    assert.deepEqual(web.env, [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
    assert.deepEqual(web.ports, [{ containerPort: 80, protocol: 'TCP' }]);
    assert.deepEqual(web.volumeMounts, []);
  });

  it('switches to the Recreate strategy with $retainKeys (spec.strategy is retainKeys upstream)', () => {
    const out = smp(liveDeployment(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } });
    assert.deepEqual((out.spec as Record<string, unknown>).strategy, { type: 'Recreate' });
  });

  it('switches a volume source with $retainKeys (volumes are merge,retainKeys)', () => {
    const out = smp(liveDeployment(), {
      spec: { template: { spec: {
        '$setElementOrder/volumes': [{ name: 'data' }],
        volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, emptyDir: null, name: 'data' }],
      } } },
    });
    assert.deepEqual(podSpec(out).volumes, [{ name: 'data', configMap: { name: 'cfg' } }]);
  });

  it('replaces tolerations whole (no patch strategy upstream)', () => {
    const out = smp(liveDeployment(), { spec: { template: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } } } });
    assert.deepEqual(podSpec(out).tolerations, [{ key: 'b', operator: 'Exists' }]);
  });

  it('merges resources limits key by key', () => {
    const out = smp(liveDeployment(), { spec: { template: { spec: { containers: [{ name: 'web', resources: { limits: { cpu: '500m' } } }] } } } });
    assert.deepEqual(podSpec(out).containers[0].resources, { limits: { cpu: '500m' } });
  });

  it('merges Service ports by port', () => {
    const svc: KubeObject = {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 's' },
      spec: { type: 'ClusterIP', clusterIP: '10.43.0.5', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
    };
    const out = smp(svc, { spec: { '$setElementOrder/ports': [{ port: 80 }, { port: 443 }], ports: [{ name: 'https', port: 443, targetPort: 8443 }] } }, SERVICE);
    assert.deepEqual((out.spec as Record<string, unknown>).ports, [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
      { name: 'https', port: 443, targetPort: 8443 },
    ]);
    assert.equal((out.spec as Record<string, unknown>).clusterIP, '10.43.0.5');
  });

  it('kubectl cordon and taint on a Node', () => {
    const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.42.0.0/24', taints: [{ key: 'a', effect: 'NoSchedule' }] } };
    const cordoned = smp(node, { spec: { unschedulable: true } }, NODE);
    assert.deepEqual(cordoned.spec, { podCIDR: '10.42.0.0/24', taints: [{ key: 'a', effect: 'NoSchedule' }], unschedulable: true });
    const tainted = smp(node, { spec: { taints: [{ key: 'b', effect: 'NoExecute' }] } }, NODE);
    assert.deepEqual((tainted.spec as Record<string, unknown>).taints, [{ key: 'b', effect: 'NoExecute' }]);
  });

  it('adds and removes finalizers as a set', () => {
    const obj = liveDeployment();
    obj.metadata!.finalizers = ['a.io/x'];
    const added = smp(obj, { metadata: { finalizers: ['b.io/y'] } });
    assert.deepEqual(added.metadata?.finalizers, ['b.io/y', 'a.io/x']);
    const removed = smp(added, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.io/x'] } });
    assert.deepEqual(removed.metadata?.finalizers, ['b.io/y']);
  });

  it('kubectl scale through a merge patch of the Scale subresource', () => {
    const scale: KubeObject = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 2 }, status: { replicas: 2 } };
    const out = applyPatch(scale, '{"spec":{"replicas":4}}', MERGE_PATCH, { group: 'autoscaling', version: 'v1', kind: 'Scale' }, schemaLookup);
    assert.deepEqual(out.spec, { replicas: 4 });
  });
});

describe('server-side apply against the real schemas', () => {
  it('merges containers and ports by merge key, replaces atomic lists', () => {
    const out = applyPatch(liveDeployment(), [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: web',
      'spec:',
      '  template:',
      '    spec:',
      '      containers:',
      '      - name: web',
      '        image: nginx:3',
      '        ports:',
      '        - containerPort: 80',
      '          name: http',
      '      tolerations:',
      '      - key: c',
      '        operator: Exists',
    ].join('\n'), APPLY_PATCH, DEPLOYMENT, schemaLookup);
    const web = podSpec(out).containers[0];
    assert.equal(web.image, 'nginx:3');
    assert.deepEqual(web.ports, [{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 443, protocol: 'TCP' }]);
    assert.deepEqual(podSpec(out).tolerations, [{ key: 'c', operator: 'Exists' }]);
    assert.equal(podSpec(out).containers.length, 2);
  });
});
