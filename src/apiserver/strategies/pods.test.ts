import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1';
import { invalid } from '../../api/status.js';
import type { KubeObject } from '../strategy.js';
import { strategyFor } from './index.js';

const pods = strategyFor('', 'pods');

/** What the registry does on create: defaults, prepare, validate. */
function create(pod: Pod): { obj: KubeObject; errors: string[] } {
  const obj = structuredClone(pod) as KubeObject;
  pods.defaults?.(obj);
  pods.prepareForCreate?.(obj);
  return { obj, errors: (pods.validate?.(obj) ?? []).map((e) => `${e.field}: ${e.message}`) };
}

const minimal = (): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'default' },
  spec: { containers: [{ name: 'nginx', image: 'nginx' }] },
});

describe('pod strategy', () => {
  it('gives a minimal pod all of upstream defaults', () => {
    const { obj, errors } = create(minimal());
    assert.deepEqual(errors, []);
    assert.deepEqual(obj.spec, {
      containers: [{
        name: 'nginx', image: 'nginx', imagePullPolicy: 'Always', resources: {},
        terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
      }],
      restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler', securityContext: {}, enableServiceLinks: true,
    });
    assert.deepEqual(obj.status, { phase: 'Pending', qosClass: 'BestEffort' });
  });

  it('pulls tagged images only when missing, and defaults ports, probes and volumes', () => {
    const pod = minimal();
    pod.spec!.containers[0] = {
      name: 'app', image: 'registry.local:5000/team/app:1.2',
      ports: [{ containerPort: 8080 }],
      readinessProbe: { httpGet: { port: 8080 } },
      volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }],
      resources: { limits: { cpu: '0.5', memory: '128Mi' } },
    };
    pod.spec!.volumes = [{ name: 'cfg', configMap: { name: 'app' } }, { name: 'scratch' }];
    const { obj, errors } = create(pod);
    assert.deepEqual(errors, []);
    const spec = (obj as Pod).spec!;
    const c = spec.containers[0]!;
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(c.ports, [{ containerPort: 8080, protocol: 'TCP' }]);
    assert.deepEqual(c.readinessProbe, { httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    // requests default to limits on a Pod, in canonical form
    assert.deepEqual(c.resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } });
    assert.deepEqual(spec.volumes, [{ name: 'cfg', configMap: { name: 'app', defaultMode: 420 } }, { name: 'scratch', emptyDir: {} }]);
    assert.equal((obj as Pod).status!.qosClass, 'Guaranteed');
  });

  it('computes Burstable when requests are below limits', () => {
    const pod = minimal();
    pod.spec!.containers[0]!.resources = { requests: { cpu: '100m' }, limits: { cpu: '1', memory: '1Gi' } };
    assert.equal((create(pod).obj as Pod).status!.qosClass, 'Burstable');
  });

  it('requires at least one container', () => {
    const pod = minimal();
    pod.spec!.containers = [];
    assert.deepEqual(create(pod).errors, ['spec.containers: Required value']);
  });

  it('rejects an uppercase name with the DNS-1123 subdomain message', () => {
    const pod = minimal();
    pod.metadata!.name = 'Web';
    const { obj, errors } = create(pod);
    assert.deepEqual(errors, [
      'metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
    ]);
    // as the API answers it
    const err = invalid('Pod', '', 'Web', pods.validate!(obj));
    assert.equal(err.code, 422);
    assert.match(err.message, /^Pod "Web" is invalid: metadata\.name: Invalid value: "Web": a lowercase RFC 1123 subdomain/);
  });

  it('rejects duplicate container names and a missing image', () => {
    const pod = minimal();
    pod.spec!.containers.push({ name: 'nginx', image: '' });
    assert.deepEqual(create(pod).errors, ['spec.containers[1].image: Required value', 'spec.containers[1].name: Duplicate value: "nginx"']);
  });

  it('rejects port 70000', () => {
    const pod = minimal();
    pod.spec!.containers[0]!.ports = [{ containerPort: 70000 }];
    assert.deepEqual(create(pod).errors, ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive']);
  });

  it('rejects an unknown restartPolicy and dnsPolicy', () => {
    const pod = minimal();
    pod.spec!.restartPolicy = 'Sometimes';
    pod.spec!.dnsPolicy = 'Cluster';
    assert.deepEqual(create(pod).errors, [
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      'spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]);
  });

  it('rejects mounts of volumes that do not exist and bad quantities', () => {
    const pod = minimal();
    pod.spec!.containers[0]!.volumeMounts = [{ name: 'data', mountPath: '/data' }];
    pod.spec!.containers[0]!.resources = { requests: { memory: 'lots' } };
    assert.deepEqual(create(pod).errors, [
      'spec.containers[0].volumeMounts[0].name: Not found: "data"',
      'spec.containers[0].resources.requests[memory]: Invalid value: "lots": quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
    ]);
  });

  it('lets an update change images but nothing else of the spec', () => {
    const { obj: old } = create(minimal());
    const image = structuredClone(old) as Pod;
    image.spec!.containers[0]!.image = 'nginx:1.27';
    pods.defaults!(image as KubeObject);
    pods.prepareForUpdate!(image as KubeObject, old);
    assert.deepEqual(pods.validateUpdate!(image as KubeObject, old), []);

    const restart = structuredClone(old) as Pod;
    restart.spec!.restartPolicy = 'Never';
    const errs = pods.validateUpdate!(restart as KubeObject, old);
    assert.equal(errs.length, 1);
    assert.equal(errs[0]!.field, 'spec');
    assert.ok(errs[0]!.message.startsWith('Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n'));
    assert.match(errs[0]!.message, /restartPolicy: "Always"/);
  });

  it('keeps status out of main updates and spec out of status updates', () => {
    const { obj: old } = create(minimal());
    const update = structuredClone(old);
    update.status = { phase: 'Running' };
    pods.prepareForUpdate!(update, old);
    assert.equal((update as Pod).status!.phase, 'Pending');

    const status = structuredClone(old);
    status.status = { phase: 'Running', podIP: '10.42.0.5', podIPs: [{ ip: '10.42.0.5' }] };
    (status as Pod).spec!.nodeName = 'elsewhere';
    pods.prepareForStatusUpdate!(status, old);
    assert.equal((status as Pod).spec!.nodeName, undefined);
    assert.equal((status as Pod).status!.qosClass, 'BestEffort');
    assert.deepEqual(pods.validateUpdate!(status, old), []);
  });

  it('exposes upstream field selectors', () => {
    const { obj } = create(minimal());
    assert.deepEqual(pods.selectableFields!(obj), {
      'spec.nodeName': '', 'spec.restartPolicy': 'Always', 'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': '', 'spec.hostNetwork': 'false', 'status.phase': 'Pending',
      'status.podIP': '', 'status.nominatedNodeName': '',
    });
  });
});
