import type { Container, EnvVar, Pod, Service } from 'kubernetes-types/core/v1';
import type { KeyValue } from './cri/types.js';
import { ObjectCache, objectData } from './object-cache.js';
import { podFieldValue, resourceFieldValue, type PodRuntimeFacts } from './field-path.js';

/** An env source the container cannot start without (upstream: CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  constructor(message: string) { super(message); this.name = 'ContainerConfigError'; }
}

export interface EnvContext {
  pod: Pod;
  objects: ObjectCache;
  facts: PodRuntimeFacts;
  allocatable: { cpu: string; memory: string };
}

/**
 * The container's environment as upstream's makeEnvironmentVariables: the
 * Services' variables (KUBERNETES_SERVICE_HOST… and, with enableServiceLinks,
 * those of the namespace's Services), then envFrom (prefix, invalid keys
 * skipped), then env in order, each value with `$(VAR)` references to earlier
 * variables expanded.
 */
export async function containerEnv(container: Container, ctx: EnvContext): Promise<KeyValue[]> {
  const ns = ctx.pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();
  for (const [k, v] of await serviceEnv(ctx)) env.set(k, v);
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref?.name) continue;
    const kind = from.configMapRef ? 'configmap' : 'secret';
    const obj = from.configMapRef ? await ctx.objects.configMap(ns, ref.name) : await ctx.objects.secret(ns, ref.name);
    if (!obj) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const [k, v] of objectData(obj)) {
      const key = (from.prefix ?? '') + k;
      if (/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(key)) env.set(key, v.toString());
    }
  }
  for (const e of container.env ?? []) env.set(e.name, await envValue(e, container, ctx, env));
  return [...env].map(([key, value]) => ({ key, value }));
}

async function envValue(e: EnvVar, container: Container, ctx: EnvContext, earlier: Map<string, string>): Promise<string> {
  if (e.value !== undefined) return expand(e.value, earlier);
  const from = e.valueFrom;
  if (!from) return '';
  const ns = ctx.pod.metadata?.namespace ?? 'default';
  if (from.fieldRef) {
    const v = podFieldValue(ctx.pod, from.fieldRef, ctx.facts);
    if (v === undefined) throw new ContainerConfigError(`unsupported fieldRef "${from.fieldRef.fieldPath}" in env ${e.name}`);
    return v;
  }
  if (from.resourceFieldRef) {
    const target = from.resourceFieldRef.containerName
      ? [...(ctx.pod.spec?.containers ?? []), ...(ctx.pod.spec?.initContainers ?? [])].find((c) => c.name === from.resourceFieldRef!.containerName)
      : container;
    return resourceFieldValue(target, from.resourceFieldRef, ctx.allocatable);
  }
  const keyRef = from.configMapKeyRef ?? from.secretKeyRef;
  if (keyRef) {
    const kind = from.configMapKeyRef ? 'configmap' : 'secret';
    const obj = from.configMapKeyRef ? await ctx.objects.configMap(ns, keyRef.name ?? '') : await ctx.objects.secret(ns, keyRef.name ?? '');
    const value = obj ? objectData(obj).get(keyRef.key) : undefined;
    if (value === undefined) {
      if (keyRef.optional) return '';
      throw new ContainerConfigError(obj
        ? `couldn't find key ${keyRef.key} in ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} ${ns}/${keyRef.name}`
        : `${kind} "${keyRef.name}" not found`);
    }
    return value.toString();
  }
  return '';
}

/**
 * Docker-link style variables for Services (upstream's envvars.FromServices):
 * the `kubernetes` Service of `default` always, the pod's namespace's Services
 * too unless enableServiceLinks is false. Headless Services give none. A
 * failure to list leaves them out rather than holding the container back.
 */
async function serviceEnv(ctx: EnvContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ns = ctx.pod.metadata?.namespace ?? 'default';
  const links = ctx.pod.spec?.enableServiceLinks !== false;
  let list: Service[] = [];
  try {
    const own = links ? await ctx.objects.services(ns) : [];
    const master = ns === 'default' && links ? [] : (await ctx.objects.services('default')).filter((s) => s.metadata?.name === 'kubernetes');
    list = [...master, ...own];
  } catch { return out; }
  for (const svc of list) {
    const ip = svc.spec?.clusterIP;
    const ports = svc.spec?.ports ?? [];
    if (!ip || ip === 'None' || !ports.length) continue;
    const name = (svc.metadata?.name ?? '').toUpperCase().replace(/-/g, '_');
    out.set(`${name}_SERVICE_HOST`, ip);
    out.set(`${name}_SERVICE_PORT`, String(ports[0].port));
    for (const p of ports) if (p.name) out.set(`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`, String(p.port));
    const proto0 = (ports[0].protocol ?? 'TCP').toLowerCase();
    out.set(`${name}_PORT`, `${proto0}://${ip}:${ports[0].port}`);
    for (const p of ports) {
      const proto = p.protocol ?? 'TCP';
      const prefix = `${name}_PORT_${p.port}_${proto}`;
      out.set(prefix, `${proto.toLowerCase()}://${ip}:${p.port}`);
      out.set(`${prefix}_PROTO`, proto.toLowerCase());
      out.set(`${prefix}_PORT`, String(p.port));
      out.set(`${prefix}_ADDR`, ip);
    }
  }
  return out;
}

/** Kubernetes' `$(VAR)` expansion: `$$` escapes, unknown references stay as written. */
export function expand(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (all, name: string | undefined) => {
    if (all === '$$') return '$';
    return name !== undefined && vars.has(name) ? vars.get(name)! : all;
  });
}

export const envMap = (env: KeyValue[]): Map<string, string> => new Map(env.map((e) => [e.key, e.value]));
