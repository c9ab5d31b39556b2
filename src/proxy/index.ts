/**
 * The service proxy: iptables rules from Services and EndpointSlices.
 *
 * ```ts
 * const proxier = new Proxier({ client, nodeName, clusterCIDR: '10.42.0.0/16' });
 * await proxier.run(signal);                 // until the agent stops
 * await cleanupProxyRules();                 // bosun killall / uninstall
 * ```
 */
export { Proxier, type ProxierOptions } from './proxier.js';
export { RuleSyncer, type SyncResult } from './syncer.js';
export { cleanupProxyRules, ownRulesLeft, IptablesError } from './iptables.js';
export {
  renderRestore, servicePortRules, jumpRules, fixedChains, serviceChainName, endpointChainName, hash16,
  DEFAULT_CHAIN_PREFIX, type RuleConfig, type ServicePortState, type ServicePortRules, type RestorePlan,
} from './rules.js';
export { servicePortsOf, endpointsFor, categorizeEndpoints, type ServicePortInfo, type EndpointInfo } from './model.js';
export { proxyMetrics, type ProxyMetrics } from './metrics.js';
