import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../strategy.js';
import { strategyFor } from './index.js';

const services = strategyFor('', 'services');
const messages = (errs: Array<{ field: string; message: string }>) => errs.map((e) => `${e.field}: ${e.message}`);

function created(svc: Service): KubeObject {
  const obj = structuredClone(svc) as KubeObject;
  services.defaults!(obj);
  services.prepareForCreate!(obj);
  return obj;
}

const web = (): Service => ({ metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });

describe('service strategy', () => {
  it('defaults type, affinity, protocol, targetPort and single-stack IPv4', () => {
    const obj = created(web());
    assert.deepEqual(messages(services.validate!(obj)), []);
    assert.deepEqual(obj.spec, {
      selector: { app: 'web' },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      sessionAffinity: 'None', type: 'ClusterIP', internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'],
    });
    assert.deepEqual(obj.status, { loadBalancer: {} });
  });

  it('defaults externalTrafficPolicy for node ports', () => {
    const svc = web();
    svc.spec!.type = 'NodePort';
    assert.equal((created(svc) as Service).spec!.externalTrafficPolicy, 'Cluster');
  });

  it('requires ports unless headless, and a DNS-1035 name', () => {
    const svc: Service = { metadata: { name: '1web', namespace: 'default' }, spec: { selector: { app: 'web' } } };
    assert.deepEqual(messages(services.validate!(created(svc))), [
      'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')',
      'spec.ports: Required value',
    ]);
    const headless: Service = { metadata: { name: 'db', namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: 'db' } } };
    const obj = created(headless) as Service;
    assert.deepEqual(messages(services.validate!(obj as KubeObject)), []);
    assert.deepEqual(obj.spec!.clusterIPs, ['None']);
  });

  it('requires names on several ports and keeps them unique', () => {
    const svc = web();
    svc.spec!.ports = [{ port: 80 }, { name: 'http', port: 81 }, { name: 'http', port: 0 }];
    assert.deepEqual(messages(services.validate!(created(svc))), [
      'spec.ports[0].name: Required value',
      'spec.ports[2].name: Duplicate value: "http"',
      'spec.ports[2].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[2].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
    ]);
  });

  it('keeps an allocated clusterIP when an update omits it, and refuses to change it', () => {
    const old = created(web());
    Object.assign(old.spec as object, { clusterIP: '10.43.0.10', clusterIPs: ['10.43.0.10'] });

    const omitted = created(web());
    delete omitted.status;
    services.prepareForUpdate!(omitted, old);
    assert.equal((omitted as Service).spec!.clusterIP, '10.43.0.10');
    assert.deepEqual(messages(services.validateUpdate!(omitted, old)), []);

    const changed = structuredClone(old) as Service;
    changed.spec!.clusterIP = '10.43.0.11';
    services.prepareForUpdate!(changed as KubeObject, old);
    assert.deepEqual(messages(services.validateUpdate!(changed as KubeObject, old)), [
      'spec.clusterIPs[0]: Invalid value: ["10.43.0.11"]: may not change once set',
    ]);
  });
});
