import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { UserInfo } from '../apiserver/authn.js';
import { readBody, writeJson } from '../apiserver/http.js';
import { badRequest, methodNotAllowed } from '../api/status.js';
import type { CertificateAuthority } from './pki.js';

export { NODE_CREDENTIALS_PATH, type NodeCredentials, type NodeCredentialsRequest } from './node-credentials.js';
import { NODE_CREDENTIALS_PATH, type NodeCredentials, type NodeCredentialsRequest } from './node-credentials.js';

const NODE_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function validateNodeCredentialsRequest(body: unknown): NodeCredentialsRequest {
  const req = body as Partial<NodeCredentialsRequest> | null;
  if (!req || typeof req !== 'object') throw badRequest('expected a JSON object {"nodeName": ..., "addresses": [...]}');
  if (typeof req.nodeName !== 'string' || req.nodeName.length > 253 || !NODE_NAME_RE.test(req.nodeName)) {
    throw badRequest(`invalid nodeName ${JSON.stringify(req.nodeName)}: a lowercase RFC 1123 subdomain is required`);
  }
  const addresses = req.addresses ?? [];
  if (!Array.isArray(addresses) || addresses.some((a) => typeof a !== 'string' || !isIP(a))) {
    throw badRequest('addresses must be a list of IP addresses');
  }
  return { nodeName: req.nodeName, addresses };
}

/**
 * Answers `POST /v1-bosun/node-credentials` for any authenticated caller —
 * the server token or a bootstrap token — with certificates signed by the
 * cluster CA. A rebuilt machine with the same name simply gets new ones.
 */
export function nodeCredentialsHandler(authority: CertificateAuthority, caPem: string, log: (m: string) => void = () => {}) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo): Promise<boolean> => {
    if (url.pathname !== NODE_CREDENTIALS_PATH) return false;
    if (req.method !== 'POST') throw methodNotAllowed();
    let body: unknown;
    try { body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8')); } catch { throw badRequest('the request body is not JSON'); }
    const { nodeName, addresses } = validateNodeCredentialsRequest(body);
    const credentials: NodeCredentials = {
      caPem,
      client: await authority.issueClient(`system:node:${nodeName}`, ['system:nodes']),
      serving: await authority.issueServing(nodeName, [nodeName, 'localhost', '127.0.0.1', ...addresses]),
    };
    log(`issued node credentials for ${nodeName} to ${user.name}`);
    writeJson(res, 200, credentials);
    return true;
  };
}
