import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CriClient, CriError, isNotFound } from '../../src/kubelet/cri/client.js';
import type { PodSandboxConfig } from '../../src/kubelet/cri/types.js';
import { startTestContainerd } from '../helpers/containerd.js';

const isRoot = process.getuid?.() === 0;

test('CriClient speaks runtime.v1 to containerd: version, images, a sandbox and a container, exec, stats, errors', { skip: !isRoot && 'needs root' }, async (t) => {
  const rt = await startTestContainerd(t);
  const cri = new CriClient({ endpoint: rt.endpoint });
  t.after(() => cri.close());

  const v = await cri.version();
  assert.equal(v.runtimeName, 'containerd');
  assert.equal(v.runtimeApiVersion, 'v1');
  const st = await cri.status();
  assert.ok(st.status?.conditions.find((c) => c.type === 'RuntimeReady')?.status);

  const img = await cri.imageStatus(rt.busyboxImage);
  assert.ok(img?.repoTags.includes(rt.busyboxImage));
  assert.equal(await cri.imageStatus('localhost/none:1'), null);
  assert.ok((await cri.listImages()).length >= 2);
  assert.ok((await cri.imageFsInfo()).imageFilesystems.length >= 1);

  const config: PodSandboxConfig = {
    metadata: { name: 'cri-test', namespace: 'default', uid: `cri-test-${process.pid}` },
    hostname: 'cri-test', logDirectory: join(rt.dir, 'logs'), labels: { test: 'cri' },
    linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
  const sandboxId = await cri.runPodSandbox(config);
  const sb = await cri.podSandboxStatus(sandboxId);
  assert.equal(sb.status.state, 'SANDBOX_READY');
  assert.match(sb.status.network!.ip, /^10\.42\./);
  assert.deepEqual((await cri.listPodSandbox({ labelSelector: { test: 'cri' } })).map((s) => s.id), [sandboxId]);

  const id = await cri.createContainer(sandboxId, {
    metadata: { name: 'c', attempt: 0 }, image: { image: rt.busyboxImage }, command: ['sh', '-c', 'echo out; sleep 3600'],
    envs: [{ key: 'GREETING', value: 'hi' }], logPath: 'c/0.log', labels: { test: 'cri' },
  }, config);
  await cri.startContainer(id);
  const cs = await cri.containerStatus(id);
  assert.equal(cs.status.state, 'CONTAINER_RUNNING');
  assert.ok(BigInt(cs.status.startedAt) > 0n);
  assert.equal(cs.status.logPath, join(rt.dir, 'logs', 'c', '0.log'));
  const ex = await cri.execSync(id, ['sh', '-c', 'echo $GREETING; exit 4'], 10);
  assert.equal(ex.stdout.toString(), 'hi\n');
  assert.equal(ex.exitCode, 4);
  assert.match(await cri.exec({ containerId: id, cmd: ['sh'], stdin: true, stdout: true }), /^http:\/\/127\.0\.0\.1:\d+\/exec\//);
  assert.ok((await cri.containerStats(id)).attributes.id === id);

  await cri.stopContainer(id, 0);
  assert.equal((await cri.containerStatus(id)).status.state, 'CONTAINER_EXITED');
  await cri.removeContainer(id);
  await assert.rejects(cri.containerStatus(id), (err: unknown) => err instanceof CriError && isNotFound(err) && /ContainerStatus/.test(err.message));
  await cri.stopPodSandbox(sandboxId);
  await cri.removePodSandbox(sandboxId);
  assert.equal((await cri.listPodSandbox({ labelSelector: { test: 'cri' } })).length, 0);
});
