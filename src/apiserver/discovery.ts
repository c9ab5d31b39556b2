import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIResource, APIResourceList, APIGroup, APIGroupList, APIVersions } from 'kubernetes-types/meta/v1';
import { RESOURCES, verbsOf, apiVersionOf, type ResourceDefinition } from './resources.js';
import { pathNotFound } from '../api/status.js';
import { writeJson } from './http.js';

/** What each subresource answers with and allows, as upstream's discovery lists them. */
const SUBRESOURCES: Record<string, { kind: string; group?: string; version?: string; verbs: string[] }> = {
  status: { kind: '', verbs: ['get', 'patch', 'update'] },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
  binding: { kind: 'Binding', group: '', version: 'v1', verbs: ['create'] },
  finalize: { kind: '', verbs: ['update'] },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
  // Served through the kubelet (handlers/pod-streaming.ts).
  attach: { kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
  log: { kind: 'Pod', verbs: ['get'] },
  portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  proxy: { kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
};

function apiResources(all: ResourceDefinition[], group: string, version: string): APIResource[] {
  const out: APIResource[] = [];
  for (const r of all.filter((d) => d.group === group && d.version === version)) {
    out.push({
      name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: verbsOf(r),
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
      storageVersionHash: createHash('sha256').update(`${r.group}/${r.storageVersion ?? r.version}/${r.kind}`).digest('base64').slice(0, 11),
    });
    for (const sub of r.subresources ?? []) {
      const s = SUBRESOURCES[sub];
      out.push({
        name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced, kind: s.kind || r.kind, verbs: s.verbs,
        // Upstream names the group version of a subresource served in another group (kubectl drain looks for it).
        ...(s.group !== undefined && s.version !== undefined && (s.group !== r.group || s.version !== r.version) ? { group: s.group, version: s.version } : {}),
      });
    }
  }
  return out;
}

function apiGroup(group: string, versions: string[]): APIGroup {
  const gvs = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: gvs, preferredVersion: gvs[0] };
}

function aggregatedGroup(all: ResourceDefinition[], group: string, versions: string[]) {
  return {
    metadata: group ? { name: group } : {},
    versions: versions.map((version) => ({
      version,
      freshness: 'Current',
      resources: all.filter((r) => r.group === group && r.version === version).map((r: ResourceDefinition) => ({
        resource: r.resource,
        responseKind: { group: r.group, version: r.version, kind: r.kind },
        scope: r.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: r.singular,
        verbs: verbsOf(r),
        ...(r.shortNames ? { shortNames: r.shortNames } : {}),
        ...(r.categories ? { categories: r.categories } : {}),
        ...(r.subresources?.length ? {
          subresources: r.subresources.map((sub) => {
            const s = SUBRESOURCES[sub];
            return {
              subresource: sub,
              responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind || r.kind },
              verbs: s.verbs,
            };
          }),
        } : {}),
      })),
    })),
  };
}

/** The aggregated discovery version a client accepts, if any (v2 preferred). */
function aggregatedVersion(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  const offers = (accept ?? '').split(',').map((o) => o.replace(/\s+/g, ''));
  for (const o of offers) {
    if (!o.includes('as=APIGroupDiscoveryList') || !o.includes('g=apidiscovery.k8s.io')) continue;
    if (o.includes('v=v2beta1')) return 'v2beta1';
    if (o.includes('v=v2')) return 'v2';
  }
  return undefined;
}

/** Discovery documents are fixed for a server's life: build once, serve with an ETag. */
class Cached {
  private readonly body: string;
  private readonly etag: string;
  constructor(doc: unknown, private readonly contentType = 'application/json') {
    this.body = JSON.stringify(doc);
    this.etag = `"${createHash('sha256').update(this.body).digest('hex').toUpperCase()}"`;
  }
  serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.headers['if-none-match'] === this.etag) {
      res.writeHead(304, { ETag: this.etag });
      res.end();
      return;
    }
    res.setHeader('ETag', this.etag);
    writeJson(res, 200, this.body, this.contentType);
  }
}

export class Discovery {
  private readonly docs = new Map<string, Cached>();

  private readonly resources: ResourceDefinition[];

  /** `extra`: resources served by a handler of their own rather than a registry (metrics.k8s.io, as an APIService would add it). */
  constructor(private readonly serverAddress: () => string, extra: ResourceDefinition[] = []) {
    this.resources = [...RESOURCES, ...extra];
  }

  /** Group versions in preference order (first version of a group is preferred). */
  private groupVersions(): Array<{ group: string; versions: string[] }> {
    const groups = new Map<string, string[]>();
    for (const r of this.resources) {
      const versions = groups.get(r.group) ?? [];
      if (!versions.includes(r.version)) versions.push(r.version);
      groups.set(r.group, versions);
    }
    return [...groups].map(([group, versions]) => ({ group, versions }));
  }

  private cached(key: string, build: () => { doc: unknown; contentType?: string }): Cached {
    let c = this.docs.get(key);
    if (!c) {
      const { doc, contentType } = build();
      c = new Cached(doc, contentType);
      this.docs.set(key, c);
    }
    return c;
  }

  /** Answers /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>; false if not a discovery path. */
  serve(req: IncomingMessage, res: ServerResponse, parts: string[]): boolean {
    const [prefix, a, b] = parts;
    const aggregated = aggregatedVersion(req.headers.accept);
    const groups = this.groupVersions();
    if (prefix === 'api' && parts.length === 1) {
      if (aggregated) {
        this.cached(`agg-api-${aggregated}`, () => this.aggregated(aggregated, groups.filter((g) => g.group === ''))).serve(req, res);
      } else {
        const versions: APIVersions = {
          kind: 'APIVersions', versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.serverAddress() }],
        };
        this.cached('api', () => ({ doc: versions })).serve(req, res);
      }
      return true;
    }
    if (prefix === 'apis' && parts.length === 1) {
      if (aggregated) {
        this.cached(`agg-apis-${aggregated}`, () => this.aggregated(aggregated, groups.filter((g) => g.group !== ''))).serve(req, res);
      } else {
        const list: APIGroupList = { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.filter((g) => g.group).map((g) => apiGroup(g.group, g.versions)) };
        this.cached('apis', () => ({ doc: list })).serve(req, res);
      }
      return true;
    }
    if (prefix === 'apis' && parts.length === 2) {
      const g = groups.find((x) => x.group === a);
      if (!g) throw pathNotFound();
      this.cached(`group-${a}`, () => ({ doc: { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.group, g.versions) } })).serve(req, res);
      return true;
    }
    const [group, version] = prefix === 'api' && parts.length === 2 ? ['', a] : prefix === 'apis' && parts.length === 3 ? [a, b] : [undefined, undefined];
    if (group === undefined || version === undefined) return false;
    if (!groups.some((g) => g.group === group && g.versions.includes(version))) throw pathNotFound();
    const list: APIResourceList = { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources: apiResources(this.resources, group, version) };
    this.cached(`rl-${group}/${version}`, () => ({ doc: list })).serve(req, res);
    return true;
  }

  private aggregated(version: 'v2' | 'v2beta1', groups: Array<{ group: string; versions: string[] }>) {
    return {
      doc: { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items: groups.map((g) => aggregatedGroup(this.resources, g.group, g.versions)) },
      contentType: `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`,
    };
  }
}
