import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../api/status.js';
import type { KubeObject } from '../strategy.js';
import { applyPatch, STRATEGIC_MERGE_PATCH } from './index.js';
import { testSchemas } from './test-schemas.js';

const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };
const POD = { group: '', version: 'v1', kind: 'Pod' };

function deployment(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'frontend' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web', image: 'nginx:1',
              ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443, protocol: 'TCP' }],
              env: [{ name: 'A', value: '1' }],
            },
            { name: 'sidecar', image: 'busybox', args: ['sleep', '3600'] },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          tolerations: [{ key: 'a', operator: 'Exists' }],
        },
      },
    },
  };
}

const smp = (obj: KubeObject, patch: string, gvk = DEPLOYMENT) => applyPatch(obj, patch, STRATEGIC_MERGE_PATCH, gvk, testSchemas);

// The pod template spec of a deployment, for terse assertions.
function podSpec(obj: KubeObject): Record<string, unknown> {
  const spec = obj.spec as { template: { spec: Record<string, unknown> } };
  return spec.template.spec;
}
const containers = (obj: KubeObject) => podSpec(obj).containers as Array<Record<string, unknown>>;
const names = (list: unknown) => (list as Array<{ name: string }>).map((c) => c.name);

function rejects(fn: () => unknown, code: number, reason: string, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.reason, reason);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('strategic merge patch: what kubectl apply sends', () => {
  it('changes a container image, as in the three-way patch for an edited manifest', () => {
    const single = deployment();
    containers(single).splice(1, 1);
    const out = smp(single, '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"image":"nginx:2","name":"web"}]}}}}');
    assert.deepEqual(containers(out), [{ ...containers(single)[0], image: 'nginx:2' }]);
  });

  it('leaves other containers and their order alone', () => {
    const before = deployment();
    const out = smp(before, '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],"containers":[{"image":"nginx:2","name":"web"}]}}}}');
    assert.deepEqual(names(containers(out)), ['web', 'sidecar']);
    assert.equal(containers(out)[0].image, 'nginx:2');
    assert.deepEqual(containers(out)[0].ports, containers(before)[0].ports);
    assert.deepEqual(containers(out)[1], containers(before)[1]);
    // everything outside the patch is untouched
    assert.deepEqual({ ...out, spec: undefined }, { ...before, spec: undefined });
  });

  it('removes a label that left the manifest', () => {
    const out = smp(deployment(), '{"metadata":{"labels":{"tier":null}}}');
    assert.deepEqual(out.metadata?.labels, { app: 'web' });
  });

  it('adds env to a container that had none', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],"containers":[{"env":[{"name":"MODE","value":"debug"}],"name":"sidecar"}]}}}}');
    assert.deepEqual(containers(out)[1].env, [{ name: 'MODE', value: 'debug' }]);
    assert.deepEqual(containers(out)[0].env, [{ name: 'A', value: '1' }]);
  });

  it('adds env to a container that had some, in the manifest order', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],"containers":[{"$setElementOrder/env":[{"name":"A"},{"name":"B"}],"env":[{"name":"B","value":"2"}],"name":"web"}]}}}}');
    assert.deepEqual(containers(out)[0].env, [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
  });

  it('removes a port by its merge key', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],"containers":[{"$setElementOrder/ports":[{"containerPort":80}],"name":"web","ports":[{"$patch":"delete","containerPort":443}]}]}}}}');
    assert.deepEqual(containers(out)[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
  });

  it('removes a container that left the manifest', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"$patch":"delete","name":"sidecar"}]}}}}');
    assert.deepEqual(names(containers(out)), ['web']);
  });

  it('puts a container added to the manifest where the manifest has it', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"},{"name":"redis"}],"containers":[{"image":"redis","name":"redis"}]}}}}');
    assert.deepEqual(names(containers(out)), ['web', 'sidecar', 'redis']);
    assert.deepEqual(containers(out)[2], { image: 'redis', name: 'redis' });
  });

  it('changes the deployment strategy to Recreate with $retainKeys, dropping rollingUpdate', () => {
    const out = smp(deployment(), '{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"}}}');
    assert.deepEqual((out.spec as Record<string, unknown>).strategy, { type: 'Recreate' });
    // the form of upstream's documentation, without the explicit null
    const doc = smp(deployment(), '{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}');
    assert.deepEqual((doc.spec as Record<string, unknown>).strategy, { type: 'Recreate' });
  });

  it('keeps rollingUpdate when the strategy changes without $retainKeys', () => {
    const out = smp(deployment(), '{"spec":{"strategy":{"type":"Recreate"}}}');
    assert.deepEqual((out.spec as Record<string, unknown>).strategy, { type: 'Recreate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
  });

  it('switches a volume from emptyDir to configMap (volumes are merge,retainKeys)', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"$setElementOrder/volumes":[{"name":"data"}],"volumes":[{"$retainKeys":["configMap","name"],"configMap":{"name":"cfg"},"emptyDir":null,"name":"data"}]}}}}');
    assert.deepEqual(podSpec(out).volumes, [{ name: 'data', configMap: { name: 'cfg' } }]);
  });

  it('removes a finalizer with $deleteFromPrimitiveList and keeps the order of the rest', () => {
    const obj = deployment();
    obj.metadata!.finalizers = ['a.io/x', 'b.io/y', 'c.io/z'];
    const out = smp(obj, '{"metadata":{"$deleteFromPrimitiveList/finalizers":["b.io/y"],"$setElementOrder/finalizers":["a.io/x","c.io/z"]}}');
    assert.deepEqual(out.metadata?.finalizers, ['a.io/x', 'c.io/z']);
  });

  it('updates the last-applied annotation alongside the other changes', () => {
    const obj = deployment();
    obj.metadata!.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}\n', other: 'kept' };
    const out = smp(obj, '{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"new\\":true}\\n"}},"spec":{"replicas":3}}');
    assert.deepEqual(out.metadata?.annotations, { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}\n', other: 'kept' });
    assert.equal((out.spec as Record<string, unknown>).replicas, 3);
  });
});

describe('strategic merge patch: other kubectl commands', () => {
  it('kubectl set image merges into the named container', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"containers":[{"image":"nginx:3","name":"web"}]}}}}');
    assert.deepEqual(names(containers(out)), ['web', 'sidecar']);
    assert.equal(containers(out)[0].image, 'nginx:3');
  });

  it('kubectl rollout restart adds a template annotation', () => {
    const out = smp(deployment(), '{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2024-05-01T10:00:00Z"}}}}}');
    const template = (out.spec as { template: { metadata: Record<string, unknown> } }).template;
    assert.deepEqual(template.metadata, { labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } });
  });

  it('kubectl rollout pause sets a field', () => {
    const out = smp(deployment(), '{"spec":{"paused":true}}');
    assert.equal((out.spec as Record<string, unknown>).paused, true);
  });

  it('kubectl patch adding a container puts the new one first, as upstream does', () => {
    // kubernetes.io "Update API Objects in Place Using kubectl patch": the
    // patched deployment lists patch-demo-ctr-2 before patch-demo-ctr
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"containers":[{"name":"redis","image":"redis"}]}}}}');
    assert.deepEqual(names(containers(out)), ['redis', 'web', 'sidecar']);
  });

  it('replaces a list without a patch strategy (tolerations)', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"tolerations":[{"effect":"NoSchedule","key":"b","operator":"Exists"}]}}}}');
    assert.deepEqual(podSpec(out).tolerations, [{ effect: 'NoSchedule', key: 'b', operator: 'Exists' }]);
  });

  it('replaces a scalar list without a patch strategy (args)', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","args":["sleep","60"]}]}}}}');
    assert.deepEqual(containers(out)[1].args, ['sleep', '60']);
  });

  it('merges maps key by key (labels, resources)', () => {
    const out = smp(deployment(), '{"spec":{"template":{"metadata":{"labels":{"version":"v2"}},"spec":{"containers":[{"name":"web","resources":{"limits":{"cpu":"1"}}}]}}}}');
    const template = (out.spec as { template: { metadata: Record<string, unknown> } }).template;
    assert.deepEqual(template.metadata.labels, { app: 'web', version: 'v2' });
    assert.deepEqual(containers(out)[0].resources, { limits: { cpu: '1' } });
  });

  it('merges ConfigMap data key by key', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } };
    const out = smp(cm, '{"data":{"b":null,"c":"3"}}', { group: '', version: 'v1', kind: 'ConfigMap' });
    assert.deepEqual(out.data, { a: '1', c: '3' });
  });

  it('merges Service ports by port', () => {
    const svc: KubeObject = {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 's' },
      spec: { type: 'ClusterIP', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    };
    const out = smp(svc, '{"spec":{"ports":[{"port":80,"targetPort":9090},{"name":"https","port":443}]}}', { group: '', version: 'v1', kind: 'Service' });
    assert.deepEqual((out.spec as Record<string, unknown>).ports, [
      { name: 'http', port: 80, targetPort: 9090 },
      { name: 'https', port: 443 },
    ]);
  });

  it('merges pod status conditions by type (as a kubelet status patch does)', () => {
    const pod: KubeObject = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }] },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }] },
    };
    const out = smp(pod, '{"status":{"$setElementOrder/conditions":[{"type":"PodScheduled"},{"type":"Ready"}],"conditions":[{"status":"True","type":"Ready"}],"phase":"Running"}}', POD);
    assert.deepEqual(out.status, { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }] });
  });

  it('merges ownerReferences by uid', () => {
    const obj = deployment();
    obj.metadata!.ownerReferences = [{ apiVersion: 'v1', kind: 'A', name: 'a', uid: '1' }];
    const out = smp(obj, '{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"B","name":"b","uid":"2"}]}}');
    assert.deepEqual(out.metadata?.ownerReferences?.map((r) => r.uid), ['2', '1']);
  });

  it('merges finalizers as a set; a new one comes first, as upstream orders it', () => {
    const obj = deployment();
    obj.metadata!.finalizers = ['a.io/x'];
    const out = smp(obj, '{"metadata":{"finalizers":["b.io/y","a.io/x"]}}');
    assert.deepEqual(out.metadata?.finalizers, ['b.io/y', 'a.io/x']);
    const added = smp(obj, '{"metadata":{"finalizers":["b.io/y"]}}');
    assert.deepEqual(added.metadata?.finalizers, ['b.io/y', 'a.io/x']);
  });

  it('empties a scalar list with $deleteFromPrimitiveList', () => {
    const obj = deployment();
    obj.metadata!.finalizers = ['a.io/x'];
    const out = smp(obj, '{"metadata":{"$deleteFromPrimitiveList/finalizers":["a.io/x"]}}');
    assert.deepEqual(out.metadata?.finalizers, []);
    // and ignores it for a list the object does not have
    assert.equal(smp(deployment(), '{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}').metadata?.finalizers, undefined);
  });

  it('sets a field to a value of another type by replacing it', () => {
    const out = smp(deployment(), '{"spec":{"replicas":"3","selector":"x"}}');
    assert.equal((out.spec as Record<string, unknown>).replicas, '3');
    assert.equal((out.spec as Record<string, unknown>).selector, 'x');
  });
});

describe('strategic merge patch: directives', () => {
  it('$patch: replace on a map replaces it', () => {
    const out = smp(deployment(), '{"metadata":{"labels":{"$patch":"replace","only":"this"}}}');
    assert.deepEqual(out.metadata?.labels, { only: 'this' });
  });

  it('$patch: delete on a map empties it, as upstream', () => {
    const out = smp(deployment(), '{"spec":{"strategy":{"$patch":"delete"}}}');
    assert.deepEqual((out.spec as Record<string, unknown>).strategy, {});
  });

  it('$patch: merge on a map is the default merge', () => {
    const out = smp(deployment(), '{"metadata":{"labels":{"$patch":"merge","x":"y"}}}');
    assert.deepEqual(out.metadata?.labels, { app: 'web', tier: 'frontend', x: 'y' });
  });

  it('a {"$patch":"replace"} item replaces the whole list with the other items', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"containers":[{"name":"solo","image":"alpine"},{"$patch":"replace"}]}}}}');
    assert.deepEqual(containers(out), [{ name: 'solo', image: 'alpine' }]);
  });

  it('a {"$patch":"merge"} item changes nothing', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"containers":[{"$patch":"merge"},{"name":"web","image":"nginx:9"}]}}}}');
    assert.deepEqual(names(containers(out)), ['web', 'sidecar']);
    assert.equal(containers(out)[0].image, 'nginx:9');
  });

  it('deletes every item with the merge key value', () => {
    const obj = deployment();
    podSpec(obj).imagePullSecrets = [{ name: 'a' }, { name: 'b' }, { name: 'a' }];
    const out = smp(obj, '{"spec":{"template":{"spec":{"imagePullSecrets":[{"$patch":"delete","name":"a"}]}}}}');
    assert.deepEqual(podSpec(out).imagePullSecrets, [{ name: 'b' }]);
  });

  it('never stores a directive or a null in a value the object did not have', () => {
    const out = smp(deployment(), JSON.stringify({
      spec: {
        template: {
          spec: {
            hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'], junk: null }],
            initContainers: [{ name: 'init', image: 'x', env: [{ name: 'E', value: null }] }, { name: 'gone', $patch: 'delete' }],
            newMap: { a: null, b: { $patch: 'replace', c: 1 }, $retainKeys: ['b'] },
          },
        },
      },
    }));
    assert.deepEqual(podSpec(out).hostAliases, [{ ip: '10.0.0.1', hostnames: ['a'] }]);
    assert.deepEqual(podSpec(out).initContainers, [{ name: 'init', image: 'x', env: [{ name: 'E' }] }]);
    assert.deepEqual(podSpec(out).newMap, { b: { c: 1 } });
  });

  it('removes a field of a list item with null', () => {
    const out = smp(deployment(), '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":null,"ports":null}]}}}}');
    assert.deepEqual(containers(out)[0], { name: 'web', image: 'nginx:1' });
  });
});

describe('strategic merge patch: what it refuses', () => {
  it('refuses an unknown $patch directive', () => {
    rejects(() => smp(deployment(), '{"metadata":{"labels":{"$patch":"frob"}}}'), 400, 'BadRequest', 'unknown patch type: frob in map: map[$patch:frob]');
    rejects(() => smp(deployment(), '{"spec":{"template":{"spec":{"containers":[{"$patch":"frob","name":"web"}]}}}}'), 400, 'BadRequest', 'unknown patch type: frob in map: map[$patch:frob name:web]');
  });

  it('refuses a list item without its merge key', () => {
    rejects(() => smp(deployment(), '{"spec":{"template":{"spec":{"containers":[{"image":"nginx"}]}}}}'), 400, 'BadRequest',
      'map: map[image:nginx] does not contain declared merge key: name');
    rejects(() => smp(deployment(), '{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","image":"nginx"}]}}}}'), 400, 'BadRequest',
      'map: map[$patch:delete image:nginx] does not contain declared merge key: name');
  });

  it('refuses a patch that sets a field $retainKeys does not name', () => {
    rejects(() => smp(deployment(), '{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":{"maxSurge":"1"}}}}'), 400, 'BadRequest', 'invalid patch format of retainKeys');
    rejects(() => smp(deployment(), '{"spec":{"strategy":{"$retainKeys":"type"}}}'), 400, 'BadRequest', 'invalid patch format of retainKeys');
  });

  it('refuses a patch list out of the $setElementOrder order', () => {
    rejects(() => smp(deployment(), '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"name":"redis","image":"r"}]}}}}'), 400, 'BadRequest',
      "the order in patch list:\n[map[image:r name:redis]]\n doesn't match $setElementOrder list:\n[map[name:web]]");
  });

  it('refuses malformed directive keys and values', () => {
    rejects(() => smp(deployment(), '{"metadata":{"$deleteFromPrimitiveListfinalizers":["a"]}}'), 400, 'BadRequest', 'invalid patch format of primitive list');
    rejects(() => smp(deployment(), '{"metadata":{"$setElementOrderfinalizers":["a"]}}'), 400, 'BadRequest', 'invalid patch format of setElementOrder list');
    rejects(() => smp(deployment(), '{"metadata":{"$setElementOrder/finalizers":"a"}}'), 400, 'BadRequest', 'expected a []interface {}, but received a string');
  });

  it('refuses mixed and nested lists', () => {
    rejects(() => smp(deployment(), '{"spec":{"template":{"spec":{"initContainers":[["a"]]}}}}'), 422, 'Invalid', 'the server rejected our request due to an error in our request');
    rejects(() => smp(deployment(), '{"spec":{"template":{"spec":{"containers":["web"]}}}}'), 400, 'BadRequest', /^list element types are not identical: /);
  });

  it('refuses a body that is not a JSON object, with encoding/json wording', () => {
    rejects(() => smp(deployment(), '{"spec":'), 400, 'BadRequest', 'unexpected end of JSON input');
    rejects(() => smp(deployment(), "{'spec':1}"), 400, 'BadRequest', 'invalid character \'\\\'\' looking for beginning of object key string');
    rejects(() => smp(deployment(), '{"a":1} x'), 400, 'BadRequest', "invalid character 'x' after top-level value");
    rejects(() => smp(deployment(), '[{"spec":{}}]'), 400, 'BadRequest', 'json: cannot unmarshal array into Go value of type map[string]interface {}');
    rejects(() => smp(deployment(), '"spec"'), 400, 'BadRequest', 'json: cannot unmarshal string into Go value of type map[string]interface {}');
  });

  it('treats a null body as an empty patch', () => {
    assert.deepEqual(smp(deployment(), 'null'), deployment());
  });
});

describe('strategic merge patch: kinds without a schema', () => {
  it('merges objects and replaces lists, still honouring directives', () => {
    const crd: KubeObject = {
      apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c', labels: { a: '1', b: '2' } },
      spec: { items: [{ name: 'a' }, { name: 'b' }], cron: '* * * * *' },
    };
    const out = smp(crd, '{"metadata":{"labels":{"b":null,"c":"3"}},"spec":{"items":[{"name":"c"}],"$retainKeys":["items"]}}',
      { group: 'stable.example.com', version: 'v1', kind: 'CronTab' });
    assert.deepEqual(out, {
      apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c', labels: { a: '1', c: '3' } },
      spec: { items: [{ name: 'c' }] },
    });
  });
});

describe('strategic merge patch: purity', () => {
  it('does not modify the original object', () => {
    const before = deployment();
    const snapshot = structuredClone(before);
    smp(before, '{"metadata":{"labels":{"tier":null}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"$patch":"delete","name":"sidecar"},{"name":"web","image":"x"}]}}}}');
    assert.deepEqual(before, snapshot);
  });

  it('keeps __proto__ an ordinary key', () => {
    const out = smp(deployment(), '{"metadata":{"labels":{"__proto__":"x"}}}');
    assert.equal(Object.getPrototypeOf(out.metadata!.labels), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(out.metadata!.labels, '__proto__')?.value, 'x');
  });
});
