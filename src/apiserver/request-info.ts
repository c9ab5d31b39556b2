import type { Verb } from './resources.js';

/** What a request asks for, parsed from its path as upstream's RequestInfoFactory does. */
export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: Verb | 'proxy' | '';
  apiPrefix?: 'api' | 'apis';
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  /** Path segments after the API prefix, for discovery requests. */
  parts: string[];
}

/** Subresources of a namespace that address the namespace itself, not a resource in it. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  const info: RequestInfo = { isResourceRequest: false, path, verb: '', group: '', version: '', parts: segments };
  const prefix = segments[0];
  if (prefix !== 'api' && prefix !== 'apis') return info;
  info.apiPrefix = prefix;
  let rest = segments.slice(1);
  if (prefix === 'apis') {
    if (rest.length < 2) return info; // /apis or /apis/<group>: discovery
    info.group = rest[0];
    rest = rest.slice(1);
  }
  if (rest.length < 2) { info.version = rest[0] ?? ''; return info; } // /api, /api/v1: discovery
  info.version = rest[0];
  rest = rest.slice(1);

  let watchPrefix = false;
  if (rest[0] === 'watch') { watchPrefix = true; rest = rest.slice(1); }

  if (rest[0] === 'namespaces' && rest.length > 1) {
    info.namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
  }
  info.isResourceRequest = true;
  info.resource = rest[0];
  info.name = rest[1];
  info.subresource = rest[2];
  // A namespace addressed as /namespaces/<name>: the namespace is the object.
  if (info.resource === 'namespaces') info.namespace = undefined;

  const watching = watchPrefix || ['1', 'true'].includes(url.searchParams.get('watch') ?? '');
  switch (method) {
    case 'GET': case 'HEAD':
      info.verb = info.name ? (watching ? 'watch' : 'get') : (watching ? 'watch' : 'list');
      break;
    case 'POST': info.verb = 'create'; break;
    case 'PUT': info.verb = 'update'; break;
    case 'PATCH': info.verb = 'patch'; break;
    case 'DELETE': info.verb = info.name ? 'delete' : 'deletecollection'; break;
    default: info.verb = '';
  }
  return info;
}
