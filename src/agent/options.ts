/** What `bosun agent` (and the agent embedded in `bosun server`) is told. */
export interface AgentOptions {
  /** https://host:6443 of a server. */
  server: string;
  /** A join token: the server's (`<data-dir>/server/token`) or one from `bosun token create`. */
  token: string;
  /** Everything of the agent lives under `<dataDir>/agent`. */
  dataDir: string;
  nodeName: string;
  /** The node's address: kubelet API, NodePorts, the InternalIP in its Node. Default 127.0.0.1 on one machine. */
  nodeIP: string;
  nodeLabels?: Record<string, string>;
  /** `key=value:Effect`, registered with the Node. */
  nodeTaints?: string[];
  /** An existing CRI endpoint (`unix:///run/containerd/containerd.sock`) instead of our own containerd. */
  containerRuntimeEndpoint?: string;
  /** The pods' bridge (`bosun0`); tests give each agent its own. */
  bridge?: string;
  clusterCidr?: string;
  serviceCidr?: string;
  clusterDns?: string;
  clusterDomain?: string;
  kubeletPort?: number;
  /** Address the kubelet API binds (default: nodeIP). */
  kubeletAddress?: string;
  /** Registries reached over plain HTTP (127.0.0.1:5000). */
  plainHttpRegistries?: string[];
  /** Resolvers the cluster DNS forwards other names to; default the host's /etc/resolv.conf. */
  dnsUpstreams?: string[];
  /** Prefix of the proxy's iptables chains (KUBE); tests give each agent its own. */
  proxyChainPrefix?: string;
  disableProxy?: boolean;
  disableDns?: boolean;
  log?: (m: string) => void;
}
