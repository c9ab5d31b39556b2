import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../storage/index.js';
import type { Store } from '../storage/store.js';
import { ApiServer } from '../apiserver/server.js';
import { Authenticator } from '../apiserver/authn.js';
import { loadOrCreatePki } from './pki.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { formatToken, newSecret, parseToken } from './token.js';
import { bootstrapTokenSource } from './bootstrap-tokens.js';
import { nodeCredentialsHandler } from './node-bootstrap.js';
import { NodeServices, type NodeServicesConfig } from './node-services.js';
import { addressInCidr } from '../api/cidr.js';
import { Client } from '../client/client.js';
import { runControlLoops, type ControlLoop, type LeaderElectionTimings } from './control-plane.js';
import { defaultControlLoops } from './control-loops.js';
import type { ControllerManagerOptions } from '../controllers/index.js';
import { loadSchedulerConfiguration } from '../scheduler/index.js';
import type { DefaultTolerationSecondsOptions } from '../apiserver/admission/default-toleration-seconds.js';
import { EmbeddedEtcd, hasEmbeddedEtcd, type EtcdSnapshotConfig } from './embedded-etcd.js';
import { joinServer, serverBootstrapHandler } from './bootstrap.js';
import { KubernetesEndpointsReconciler } from '../apiserver/allocation/kubernetes-service.js';
import { annotateServerNode, runEtcdMemberRemover } from './etcd-member-remover.js';
import { keepServerList, SERVER_LIST_FILE } from './server-list.js';

/** The `kubernetes` Service's address: the service CIDR's first. */
const kubernetesServiceIP = (serviceCidr = '10.43.0.0/16'): string => addressInCidr(serviceCidr, 1);

export interface ServerConfig extends Omit<NodeServicesConfig, 'dataDir' | 'disableAgent'> {
  dataDir: string;
  bindAddress: string;
  httpsListenPort: number;
  tlsSans: string[];
  datastoreEndpoint: string;
  token?: string;
  disableAgent: boolean;
  disableScheduler?: boolean;
  disableControllerManager?: boolean;
  /** `--default-not-ready-toleration-seconds`, `--default-unreachable-toleration-seconds` (300 each). */
  defaultTolerationSeconds?: DefaultTolerationSecondsOptions;
  /** `--service-cidr` (10.43.0.0/16) and `--service-node-port-range` (30000-32767), k3s' names. */
  serviceCidr?: string;
  serviceNodePortRange?: string;
  /** `--node-monitor-grace-period`: a node silent this long turns Ready=Unknown (40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** `--scheduler-config`: a KubeSchedulerConfiguration file. */
  schedulerConfigPath?: string;
  /** Leader-elected components to run; default: the scheduler and the controller-manager. */
  controlLoops?: ControlLoop[];
  leaderElection?: LeaderElectionTimings;
  /** metrics-server's `--metric-resolution` (15 s) and `--kubelet-insecure-tls`, for the built-in metrics.k8s.io. */
  metricResolutionMs?: number;
  kubeletInsecureTLS?: boolean;
  /** The `--horizontal-pod-autoscaler-*` flags. */
  horizontalPodAutoscaler?: ControllerManagerOptions['horizontalPodAutoscaler'];
  /** HA with embedded etcd (k3s' flags): `--cluster-init` starts a new etcd cluster… */
  clusterInit?: boolean;
  /** …`--server URL` (with `--token`) joins the cluster of that server. */
  server?: string;
  /** `--etcd-client-port` (2379) and `--etcd-peer-port` (2380), bound to `--bind-address`. */
  etcdClientPort?: number;
  etcdPeerPort?: number;
  /** `--cluster-reset` and `--cluster-reset-restore-path FILE`. */
  clusterReset?: boolean;
  clusterResetRestorePath?: string;
  etcdSnapshots?: EtcdSnapshotConfig;
}

export { defaultDataDir } from './data-dir.js';

/**
 * `bosun server`: one process wiring the control plane, as k3s does —
 * certificates, the join token, the store, the API server, the kubeconfig.
 */
export class BosunServer {
  private store?: Store;
  apiserver?: ApiServer;
  /** This server's etcd member, when the datastore is embedded etcd (`--cluster-init`, `--server`). */
  etcd?: EmbeddedEtcd;
  private endpointsReconciler?: KubernetesEndpointsReconciler;
  private stopServerList?: () => void;
  private memberClient?: Client;
  /** Registry, kube-dns Service and the embedded node agent. */
  nodeServices?: NodeServices;
  private readonly loopsAbort = new AbortController();
  private loopsDone?: Promise<unknown>;
  readonly kubeconfigPath: string;
  readonly tokenPath: string;

  constructor(readonly config: ServerConfig, private readonly log: (msg: string) => void = (m) => console.log(m)) {
    this.kubeconfigPath = join(config.dataDir, 'kubeconfig.yaml');
    this.tokenPath = join(config.dataDir, 'server', 'token');
  }

  async start(): Promise<void> {
    const { config, log } = this;
    const serverDir = join(config.dataDir, 'server');
    await mkdir(serverDir, { recursive: true, mode: 0o700 });

    log(`bosun: data dir ${config.dataDir}`);
    // In-cluster clients reach the API as the `kubernetes` Service: its names and ClusterIP belong in the certificate too.
    const serviceNames = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${config.clusterDomain ?? 'cluster.local'}`];
    const sans = ['localhost', '127.0.0.1', hostname(), config.bindAddress, ...serviceNames, kubernetesServiceIP(config.serviceCidr), ...config.tlsSans]
      .filter((s) => s && s !== '0.0.0.0' && s !== '::');
    const embedEtcd = !config.datastoreEndpoint && (!!config.clusterInit || !!config.server || !!config.clusterResetRestorePath || hasEmbeddedEtcd(config.dataDir));
    const joinEtcd = config.server ? await joinServer(config.server, config.token, join(serverDir, 'tls'), hasEmbeddedEtcd(config.dataDir), log) : [];
    const pki = await loadOrCreatePki(join(serverDir, 'tls'), sans);
    log(`bosun: certificates ready (CA sha256 ${pki.caHash.slice(0, 12)}…)`);

    const token = await this.loadOrCreateToken(pki.caHash);
    const authenticator = new Authenticator();
    authenticator.addToken(token, { name: 'system:bosun:server', groups: ['system:masters', 'system:authenticated'] });

    let datastoreEndpoint = config.datastoreEndpoint;
    if (embedEtcd) {
      this.etcd = await EmbeddedEtcd.start({
        dataDir: config.dataDir, bindAddress: config.bindAddress,
        clientPort: config.etcdClientPort ?? 2379, peerPort: config.etcdPeerPort ?? 2380, join: joinEtcd,
        clusterReset: config.clusterReset, clusterResetRestorePath: config.clusterResetRestorePath,
        snapshots: config.etcdSnapshots ?? {},
      }, pki, (m) => log(`bosun: ${m}`));
      datastoreEndpoint = (await this.etcd.storeEndpoints()).join(',');
    }
    const datastore = datastoreEndpoint ? `etcd at ${datastoreEndpoint}` : `SQLite at ${join(serverDir, 'db', 'state.db')}`;
    log(`bosun: opening datastore: ${datastore}`);
    const store = await openStore({ dataDir: config.dataDir, datastoreEndpoint: datastoreEndpoint || undefined, etcdCredentials: this.etcd?.credentials });
    this.store = store;

    log('bosun: starting API server');
    this.apiserver = new ApiServer({
      store,
      bindAddress: config.bindAddress,
      port: config.httpsListenPort,
      tls: { certPem: pki.serving.certPem, keyPem: pki.serving.keyPem, caPem: pki.ca.certPem },
      authenticator,
      defaultTolerationSeconds: config.defaultTolerationSeconds,
      serviceClusterIpRange: config.serviceCidr,
      serviceNodePortRange: config.serviceNodePortRange,
      metrics: { kubeletClient: pki.kubeletClient, resolutionMs: config.metricResolutionMs, insecureTLS: config.kubeletInsecureTLS },
      extraHandler: serverBootstrapHandler({ caPem: pki.ca.certPem, caKeyPem: pki.ca.keyPem, token, etcdClientURLs: async () => (await this.etcd?.clientURLs()) ?? [] }),
      authenticatedHandler: nodeCredentialsHandler(pki.authority, pki.ca.certPem, (m) => log(`bosun: ${m}`)),
    });
    authenticator.addTokenSource(bootstrapTokenSource(this.apiserver.registry('', 'secrets')));
    await this.apiserver.start((m) => log(`bosun: ${m}`));
    const host = config.bindAddress === '0.0.0.0' ? '127.0.0.1' : config.bindAddress;
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${this.apiserver.port}`;
    log(`bosun: API server listening on ${url}`);
    // Every server keeps its address in the `kubernetes` Endpoints while it lives: clients find the others there.
    this.endpointsReconciler = new KubernetesEndpointsReconciler(store, this.apiserver.registry('', 'endpoints').keyFor('default', 'kubernetes'),
      this.apiserver.hostAddress(), this.apiserver.port, (m) => log(`bosun: ${m}`));
    this.endpointsReconciler.start();
    this.stopServerList = keepServerList(this.apiserver.registry('', 'endpoints'), join(serverDir, SERVER_LIST_FILE));
    if (this.etcd) {
      // Deleting a server's Node removes its etcd member (k3s' behaviour).
      this.memberClient = new Client({ server: url, ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem, qps: 0, userAgent: 'bosun-etcd-member-remover' });
      runEtcdMemberRemover(this.memberClient, this.etcd, this.loopsAbort.signal, (m) => log(`bosun: ${m}`));
    }

    await writeFile(this.kubeconfigPath, kubeconfigYaml({ server: url, caPem: pki.ca.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem }), { mode: 0o600 });
    log(`bosun: wrote kubeconfig to ${this.kubeconfigPath}`);
    log(`bosun: join token in ${this.tokenPath}`);
    const loops = config.controlLoops ?? defaultControlLoops({
      disableScheduler: config.disableScheduler ?? false,
      disableControllerManager: config.disableControllerManager ?? false,
      schedulerConfig: config.schedulerConfigPath ? await loadSchedulerConfiguration(config.schedulerConfigPath) : undefined,
      controllerManager: {
        ...(config.nodeMonitorGracePeriodMs === undefined ? {} : { nodeLifecycle: { nodeMonitorGracePeriodMs: config.nodeMonitorGracePeriodMs } }),
        ...(config.horizontalPodAutoscaler ? { horizontalPodAutoscaler: config.horizontalPodAutoscaler } : {}),
        ...(config.clusterCidr ? { nodeIpam: { clusterCidr: config.clusterCidr } } : {}),
      },
    });
    if (loops.length) {
      // The scheduler and controllers are clients of the API like any other (principle 1).
      const client = new Client({ server: url, ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem, qps: 0, userAgent: 'bosun-control-plane' });
      this.loopsDone = runControlLoops(loops, client, {
        signal: this.loopsAbort.signal, metrics: this.apiserver.metrics.registry,
        identity: `${hostname()}_${host}:${this.apiserver.port}`, timings: config.leaderElection, log: (m) => log(`bosun: ${m}`),
      }).catch((err: unknown) => log(`bosun: control loops stopped: ${err instanceof Error ? err.message : String(err)}`));
      log(`bosun: running ${loops.map((l) => l.name).join(', ')} (leader-elected)`);
    }
    if (config.controlLoops === undefined || !config.disableAgent) {
      // Registry, kube-dns Service, the embedded agent: a working one-machine cluster, unless this is a bare test server.
      this.nodeServices = new NodeServices(config, (m) => log(`bosun: ${m}`));
      const addonClient = new Client({ server: url, ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem, qps: 0, userAgent: 'bosun-server' });
      await this.nodeServices.start({ client: addonClient, serverUrl: url, token, bindAddress: config.bindAddress });
      const etcd = this.etcd, memberClient = this.memberClient;
      if (etcd && memberClient) {
        // Once the embedded agent registered this server's Node, deleting that Node removes this etcd member.
        void this.nodeServices.agentReady().then((agent) => agent && annotateServerNode(memberClient, agent.opts.nodeName, etcd.name, this.loopsAbort.signal));
      }
    }
    log('bosun: ready');
  }

  /** The cluster's join token: `--token`, else the stored one, else a new one; stored in `<data-dir>/server/token`. */
  private async loadOrCreateToken(caHash: string): Promise<string> {
    let secret: string;
    if (this.config.token) secret = parseToken(this.config.token).secret;
    else if (existsSync(this.tokenPath)) secret = parseToken(await readFile(this.tokenPath, 'utf8')).secret;
    else secret = newSecret();
    const token = formatToken({ caHash, user: 'server', secret });
    await writeFile(this.tokenPath, `${token}\n`, { mode: 0o600 });
    return token;
  }

  async stop(): Promise<void> {
    await this.nodeServices?.stop();
    this.stopServerList?.();
    this.loopsAbort.abort();
    // Give leaders a moment to release their leases so another server takes over at once.
    if (this.loopsDone) await Promise.race([this.loopsDone, new Promise((r) => setTimeout(r, 5000))]);
    // Bounded: with etcd's quorum gone the store hangs, and stopping must not.
    await Promise.race([this.endpointsReconciler?.stop().catch(() => { /* the store may be gone already */ }), new Promise((r) => setTimeout(r, 3000))]);
    await this.apiserver?.stop();
    await this.store?.close();
    this.memberClient?.close();
    await this.etcd?.stop();
  }
}
