/**
 * Pod features on one real node (containerd + CNI + in-process API server):
 * env, volumes, init containers, restart policies, probes, image errors,
 * graceful deletion, kubelet restart. One node for all, so the file runs in
 * about a minute; each test makes its own pods.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Pod } from 'kubernetes-types/core/v1';
import { configmaps, pods, secrets, services } from '../../src/client/index.js';
import { POD_UID_LABEL } from '../../src/kubelet/labels.js';
import { BUSYBOX_IMAGE, podSpec, startKubeletEnv, waitForPod, type KubeletEnv } from './kubelet-env.js';

const isRoot = process.getuid?.() === 0;
const SLEEP = ['sh', '-c', 'sleep 3600'];

describe('kubelet on a real node', { skip: !isRoot && 'needs root' }, () => {
  let env: KubeletEnv;
  const afters: Array<() => unknown> = [];
  before(async () => { env = await startKubeletEnv({ after: (fn) => afters.push(fn) }, { kubelet: { syncFrequencyMs: 6_000 } }); });
  after(async () => { for (const fn of afters) await fn(); });

  const create = (name: string, spec: Parameters<typeof podSpec>[2], meta: Parameters<typeof podSpec>[3] = {}) =>
    env.client.create(pods, podSpec(name, env.nodeName, spec, meta));
  const exec = async (pod: Pod, cmd: string[], container = 0): Promise<string> => {
    const id = pod.status!.containerStatuses![container].containerID!.replace('containerd://', '');
    const res = await env.cri.execSync(id, cmd, 10);
    return res.stdout.toString();
  };
  const running = (name: string) => waitForPod(env.client, name, 'Running and Ready', (p) => p.status?.phase === 'Running' && p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True');

  test('env from value, configMap, secret, fieldRef, resourceFieldRef and envFrom is seen inside', async () => {
    await env.client.create(configmaps, { metadata: { name: 'env-cm', namespace: 'default' }, data: { colour: 'blue', size: 'L' } });
    await env.client.create(secrets, { metadata: { name: 'env-secret', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from('s3cret').toString('base64') } });
    const svc = await env.client.create(services, { metadata: { name: 'my-svc', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    await create('env', {
      containers: [{
        name: 'main', image: BUSYBOX_IMAGE, command: SLEEP,
        resources: { limits: { memory: '64Mi' } },
        env: [
          { name: 'PLAIN', value: 'hello' },
          { name: 'COMPOSED', value: '$(PLAIN)-world' },
          { name: 'COLOUR', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'colour' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'password' } } },
          { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        ],
        envFrom: [{ configMapRef: { name: 'env-cm' }, prefix: 'CM_' }],
      }],
    });
    const pod = await running('env');
    const out = await exec(pod, ['env']);
    for (const line of ['PLAIN=hello', 'COMPOSED=hello-world', 'COLOUR=blue', 'PASSWORD=s3cret', 'MY_POD=env',
      `MY_IP=${pod.status!.podIP}`, `MY_NODE=${env.nodeName}`, 'MEM_MI=64', 'CM_colour=blue', 'CM_size=L',
      `MY_SVC_SERVICE_HOST=${svc.spec!.clusterIP}`, 'MY_SVC_SERVICE_PORT=80', 'MY_SVC_SERVICE_PORT_HTTP=80', `MY_SVC_PORT=tcp://${svc.spec!.clusterIP}:80`]) {
      assert.ok(out.split('\n').includes(line), `${line} in:\n${out}`);
    }
    assert.match(out, /^KUBERNETES_SERVICE_HOST=10\.43\.0\.1$/m);
    assert.match(out, /^KUBERNETES_SERVICE_PORT=443$/m);
  });

  test('configMap and secret volumes: files with items and modes; a configMap change reaches the file', async () => {
    await env.client.create(configmaps, { metadata: { name: 'vol-cm', namespace: 'default' }, data: { 'app.conf': 'v=1\n', other: 'x' } });
    await env.client.create(secrets, { metadata: { name: 'vol-secret', namespace: 'default' }, type: 'Opaque', data: { token: Buffer.from('abc').toString('base64') } });
    await create('vols', {
      containers: [{
        name: 'main', image: BUSYBOX_IMAGE, command: SLEEP,
        volumeMounts: [{ name: 'cm', mountPath: '/etc/app' }, { name: 'sec', mountPath: '/etc/sec', readOnly: true },
          { name: 'scratch', mountPath: '/scratch' }, { name: 'mem', mountPath: '/mem' }, { name: 'info', mountPath: '/etc/podinfo' }],
      }],
      volumes: [
        { name: 'cm', configMap: { name: 'vol-cm', items: [{ key: 'app.conf', path: 'conf/app.conf' }] } },
        { name: 'sec', secret: { secretName: 'vol-secret', defaultMode: 0o400 } },
        { name: 'scratch', emptyDir: {} },
        { name: 'mem', emptyDir: { medium: 'Memory' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      ],
    }, { labels: { app: 'vols' } });
    const pod = await running('vols');
    assert.equal(await exec(pod, ['cat', '/etc/app/conf/app.conf']), 'v=1\n');
    assert.equal(await exec(pod, ['ls', '/etc/app']), 'conf\n');
    assert.equal(await exec(pod, ['cat', '/etc/sec/token']), 'abc');
    assert.match(await exec(pod, ['stat', '-L', '-c', '%a', '/etc/sec/token']), /^400/);
    assert.equal(await exec(pod, ['cat', '/etc/podinfo/labels']), 'app="vols"');
    assert.match(await exec(pod, ['sh', '-c', 'grep " /mem " /proc/mounts']), /tmpfs/);
    assert.match(await exec(pod, ['sh', '-c', 'grep " /etc/sec " /proc/mounts']), /tmpfs/, 'secrets never touch the disk');
    await exec(pod, ['sh', '-c', 'echo data > /scratch/f']);
    assert.equal(await exec(pod, ['cat', '/scratch/f']), 'data\n');

    await env.client.patch(configmaps, 'default', 'vol-cm', { data: { 'app.conf': 'v=2\n' } }, 'merge-patch');
    const deadline = Date.now() + 60_000;
    let content = '';
    while (Date.now() < deadline && content !== 'v=2\n') {
      await new Promise((r) => setTimeout(r, 500));
      content = await exec(pod, ['cat', '/etc/app/conf/app.conf']);
    }
    assert.equal(content, 'v=2\n');
  });

  test('init containers run in order to completion before the containers', async () => {
    await create('inits', {
      initContainers: [
        { name: 'first', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo first >> /work/order'], volumeMounts: [{ name: 'w', mountPath: '/work' }] },
        { name: 'second', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'sleep 1; echo second >> /work/order'], volumeMounts: [{ name: 'w', mountPath: '/work' }] },
      ],
      containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo main >> /work/order; sleep 3600'], volumeMounts: [{ name: 'w', mountPath: '/work' }] }],
      volumes: [{ name: 'w', emptyDir: {} }],
    });
    const pod = await running('inits');
    assert.equal(await exec(pod, ['cat', '/work/order']), 'first\nsecond\nmain\n');
    for (const s of pod.status!.initContainerStatuses!) assert.equal(s.state?.terminated?.reason, 'Completed');
    assert.equal(pod.status!.conditions!.find((c) => c.type === 'Initialized')?.status, 'True');
  });

  test('restartPolicy Never: exit 0 is Succeeded/Completed, exit 3 is Failed/Error with the exit code', async () => {
    await create('ok', { restartPolicy: 'Never', containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: ['true'] }] });
    await create('bad', { restartPolicy: 'Never', containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'exit 3'] }] });
    const ok = await waitForPod(env.client, 'ok', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
    assert.equal(ok.status!.containerStatuses![0].state?.terminated?.reason, 'Completed');
    assert.equal(ok.status!.containerStatuses![0].state?.terminated?.exitCode, 0);
    const bad = await waitForPod(env.client, 'bad', 'Failed', (p) => p.status?.phase === 'Failed');
    assert.equal(bad.status!.containerStatuses![0].state?.terminated?.reason, 'Error');
    assert.equal(bad.status!.containerStatuses![0].state?.terminated?.exitCode, 3);
    assert.equal(bad.status!.containerStatuses![0].restartCount, 0);
  });

  test('terminated.message comes from the termination message file, or the log with FallbackToLogsOnError', async () => {
    await create('lastwords', { restartPolicy: 'Never', containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo goodbye > /dev/termination-log; exit 1'] }] });
    await create('fallback', { restartPolicy: 'Never', containers: [{ name: 'main', image: BUSYBOX_IMAGE, terminationMessagePolicy: 'FallbackToLogsOnError', command: ['sh', '-c', 'echo something broke; exit 2'] }] });
    const a = await waitForPod(env.client, 'lastwords', 'Failed', (p) => p.status?.phase === 'Failed');
    assert.equal(a.status!.containerStatuses![0].state?.terminated?.message, 'goodbye\n');
    const b = await waitForPod(env.client, 'fallback', 'Failed', (p) => p.status?.phase === 'Failed');
    assert.equal(b.status!.containerStatuses![0].state?.terminated?.message, 'something broke');
  });

  test('restartPolicy Always: a crashing container restarts with back-off and shows CrashLoopBackOff', async () => {
    await create('crash', { containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo crashing; exit 1'] }] });
    const pod = await waitForPod(env.client, 'crash', 'in CrashLoopBackOff', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff', 40_000);
    const cs = pod.status!.containerStatuses![0];
    assert.ok(cs.restartCount >= 1, `restartCount ${cs.restartCount}`);
    assert.equal(cs.lastState?.terminated?.exitCode, 1);
    assert.equal(cs.lastState?.terminated?.reason, 'Error');
    assert.match(cs.state!.waiting!.message!, /back-off 1\d?s restarting failed container=main/);
    // The second restart waits out the 10 s back-off: not before it.
    const t0 = Date.now();
    const later = await waitForPod(env.client, 'crash', 'restarted again', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) > cs.restartCount, 40_000);
    assert.ok(Date.now() - t0 > 3_000, 'waited for the back-off');
    assert.ok(later.status!.containerStatuses![0].restartCount >= 2);
  });

  test('a failing liveness probe restarts the container; a readiness probe gates Ready', async () => {
    await create('probes', {
      containers: [{
        name: 'main', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'touch /tmp/alive; sleep 3600'],
        livenessProbe: { exec: { command: ['test', '-f', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 2 },
        readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 },
      }],
    });
    let pod = await waitForPod(env.client, 'probes', 'Running, not ready', (p) => p.status?.phase === 'Running' && !!p.status.containerStatuses?.[0]?.state?.running);
    await new Promise((r) => setTimeout(r, 2_500));
    pod = await env.client.get(pods, 'default', 'probes');
    assert.equal(pod.status!.containerStatuses![0].ready, false);
    assert.equal(pod.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'False');
    await exec(pod, ['touch', '/tmp/ready']);
    pod = await running('probes');
    assert.equal(pod.status!.containerStatuses![0].ready, true);
    const firstId = pod.status!.containerStatuses![0].containerID;
    await exec(pod, ['rm', '/tmp/alive']);
    pod = await waitForPod(env.client, 'probes', 'restarted by liveness', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && !!p.status?.containerStatuses?.[0]?.state?.running, 30_000);
    assert.notEqual(pod.status!.containerStatuses![0].containerID, firstId);
  });

  test('a missing image shows ErrImagePull, then ImagePullBackOff', async () => {
    await create('noimage', { containers: [{ name: 'main', image: '127.0.0.1:1/none:1', imagePullPolicy: 'IfNotPresent' }] });
    const seen = new Set<string>();
    await waitForPod(env.client, 'noimage', 'ErrImagePull then ImagePullBackOff', (p) => {
      const r = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (r) seen.add(r);
      return seen.has('ErrImagePull') && seen.has('ImagePullBackOff');
    }, 40_000);
    const pod = await env.client.get(pods, 'default', 'noimage');
    assert.equal(pod.status!.phase, 'Pending');
  });

  test('restarting the kubelet keeps running containers: same container ID, same restart count', async () => {
    await create('survivor', { containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: SLEEP }] });
    const before = await running('survivor');
    const cs = before.status!.containerStatuses![0];
    await env.restartKubelet();
    await new Promise((r) => setTimeout(r, 3_000));
    const afterRestart = await running('survivor');
    const cs2 = afterRestart.status!.containerStatuses![0];
    assert.equal(cs2.containerID, cs.containerID);
    assert.equal(cs2.restartCount, cs.restartCount);
    assert.equal(afterRestart.status!.podIP, before.status!.podIP);
    const sandboxes = await env.cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: before.metadata!.uid! } });
    assert.equal(sandboxes.length, 1);
  });

  test('a sidecar starts before the containers and keeps running beside them; preStop runs on delete', async () => {
    const hostDir = `${env.dir}/hooks`;
    await create('sidecar', {
      initContainers: [{ name: 'side', image: BUSYBOX_IMAGE, restartPolicy: 'Always', command: ['sh', '-c', 'echo side >> /work/order; sleep 3600'], volumeMounts: [{ name: 'w', mountPath: '/work' }] }],
      containers: [{
        name: 'main', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo main >> /work/order; sleep 3600'],
        volumeMounts: [{ name: 'w', mountPath: '/work' }, { name: 'host', mountPath: '/host' }],
        lifecycle: {
          postStart: { exec: { command: ['sh', '-c', 'echo started > /host/poststart'] } },
          preStop: { exec: { command: ['sh', '-c', 'echo bye > /host/prestop'] } },
        },
      }],
      volumes: [{ name: 'w', emptyDir: {} }, { name: 'host', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } }],
    });
    const pod = await running('sidecar');
    assert.equal(await exec(pod, ['cat', '/work/order']), 'side\nmain\n');
    assert.ok(pod.status!.initContainerStatuses![0].state?.running, 'sidecar running');
    assert.equal(readFileSync(`${hostDir}/poststart`, 'utf8'), 'started\n');
    await env.client.delete(pods, 'default', 'sidecar');
    for (let i = 0; i < 100 && await env.client.get(pods, 'default', 'sidecar').then(() => true, () => false); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(readFileSync(`${hostDir}/prestop`, 'utf8'), 'bye\n');
  });

  test('a container over its memory limit is OOMKilled', async () => {
    await create('hog', {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'x=aaaaaaaa; while :; do x=$x$x; done'], resources: { limits: { memory: '32Mi' } } }],
    });
    const pod = await waitForPod(env.client, 'hog', 'Failed', (p) => p.status?.phase === 'Failed', 30_000);
    assert.equal(pod.status!.containerStatuses![0].state?.terminated?.reason, 'OOMKilled');
    assert.equal(pod.status!.containerStatuses![0].state?.terminated?.exitCode, 137);
  });

  test('hostPort reaches the pod on the node address; an httpGet readiness probe passes', async () => {
    const hostPort = 20000 + (process.pid % 20000);
    await create('hostport', {
      containers: [{
        name: 'web', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo hello-hostport > /tmp/index.html; httpd -f -p 8080 -h /tmp'],
        ports: [{ containerPort: 8080, hostPort, name: 'http' }],
        readinessProbe: { httpGet: { path: '/index.html', port: 'http' }, periodSeconds: 1 },
      }],
    });
    await running('hostport');
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: env.rt.gateway, port: hostPort, path: '/index.html', timeout: 5000 }, (res) => {
        let b = ''; res.on('data', (d: Buffer) => { b += d.toString(); }); res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    assert.equal(body, 'hello-hostport\n');
  });

  test('a new image on a running pod replaces its container; activeDeadlineSeconds fails a pod with DeadlineExceeded', async () => {
    const retagged = 'localhost/bosun/busybox:kubelet-e2e';
    await new Promise<void>((resolve, reject) => execFile('ctr', ['-a', env.rt.endpoint.replace(/^unix:\/\//, ''), '-n', 'k8s.io', 'images', 'tag', BUSYBOX_IMAGE, retagged],
      (err) => (err ? reject(err) : resolve())));
    await create('reimage', { containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: SLEEP, imagePullPolicy: 'IfNotPresent' }] });
    const before = await running('reimage');
    await env.client.patch(pods, 'default', 'reimage', { spec: { containers: [{ name: 'main', image: retagged }] } }, 'strategic-merge-patch');
    const after = await waitForPod(env.client, 'reimage', 'running the new image', (p) => {
      const cs = p.status?.containerStatuses?.[0];
      return !!cs?.state?.running && cs.containerID !== before.status!.containerStatuses![0].containerID;
    }, 30_000);
    assert.equal(after.status!.containerStatuses![0].image, retagged);

    await create('deadline', { activeDeadlineSeconds: 2, containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: SLEEP }] });
    const failed = await waitForPod(env.client, 'deadline', 'Failed by its deadline', (p) => p.status?.phase === 'Failed', 30_000);
    assert.equal(failed.status!.reason, 'DeadlineExceeded');
    assert.ok(failed.status!.containerStatuses![0].state?.terminated, 'container stopped');
  });

  test('a dead sandbox is replaced and its containers start again in the new one', async () => {
    await create('resandbox', { containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: SLEEP }] });
    const before = await running('resandbox');
    const uid = before.metadata!.uid!;
    const [sb] = await env.cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: uid } });
    await env.cri.stopPodSandbox(sb.id);
    const after = await waitForPod(env.client, 'resandbox', 'running in a new sandbox', (p) =>
      !!p.status?.containerStatuses?.[0]?.state?.running && p.status.containerStatuses[0].containerID !== before.status!.containerStatuses![0].containerID, 40_000);
    assert.equal(after.status!.containerStatuses![0].restartCount, 1);
    const ready = (await env.cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: uid } })).filter((s) => s.state === 'SANDBOX_READY');
    assert.equal(ready.length, 1);
    assert.notEqual(ready[0].id, sb.id);
  });

  test('a pod deleted while the kubelet was down is cleaned up when it comes back; hostNetwork pods use the node IP', async () => {
    await create('hostnet', { hostNetwork: true, containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: SLEEP }] });
    const hn = await running('hostnet');
    assert.equal(hn.status!.podIP, env.rt.gateway);
    const uid = hn.metadata!.uid!;
    await env.stopKubelet();
    await env.client.delete(pods, 'default', 'hostnet', { gracePeriodSeconds: 0 });
    assert.equal((await env.cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: uid } })).length, 1, 'still there while the kubelet is away');
    await env.restartKubelet();
    const deadline = Date.now() + 30_000;
    let left = 1;
    while (left && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      left = (await env.cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: uid } })).length;
    }
    assert.equal(left, 0);
  });

  test('securityContext, workingDir, args and resource limits reach the container', async () => {
    await create('secure', {
      containers: [{
        name: 'main', image: BUSYBOX_IMAGE, command: ['sh', '-c'], args: ['sleep 3600'], workingDir: '/tmp',
        securityContext: { runAsUser: 1234, runAsGroup: 2345, readOnlyRootFilesystem: true },
        resources: { requests: { cpu: '100m' }, limits: { cpu: '500m', memory: '48Mi' } },
      }],
    });
    const pod = await running('secure');
    assert.equal(await exec(pod, ['id', '-u']), '1234\n');
    assert.equal(await exec(pod, ['id', '-g']), '2345\n');
    assert.equal(await exec(pod, ['pwd']), '/tmp\n');
    assert.match(await exec(pod, ['sh', '-c', 'touch /x 2>&1 || true']), /Read-only file system/);
    const mem = await exec(pod, ['sh', '-c', 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes']);
    assert.equal(mem.trim(), String(48 * 1024 * 1024));
    const cpu = await exec(pod, ['sh', '-c', 'cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
    assert.match(cpu.trim(), /^50000( 100000)?$/);
    assert.equal(pod.status!.qosClass, 'Burstable');
  });

  test('deleting a pod stops its containers within the grace period and removes the sandbox', async () => {
    // sh as PID 1 ignores SIGTERM: only the SIGKILL after the grace period stops it.
    await create('doomed', { terminationGracePeriodSeconds: 3, containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: SLEEP }] });
    const pod = await running('doomed');
    const t0 = Date.now();
    await env.client.delete(pods, 'default', 'doomed');
    let gone = false;
    while (!gone && Date.now() - t0 < 15_000) {
      gone = await env.client.get(pods, 'default', 'doomed').then(() => false, () => true);
      if (!gone) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(gone, 'pod object deleted');
    const took = Date.now() - t0;
    assert.ok(took >= 2_500 && took < 12_000, `took ${took} ms for a 3 s grace period`);
    const uid = pod.metadata!.uid!;
    assert.equal((await env.cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: uid } })).length, 0);
    assert.equal((await env.cri.listContainers({ labelSelector: { [POD_UID_LABEL]: uid } })).length, 0);
  });
});
