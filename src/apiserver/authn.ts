import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';

export interface UserInfo { name: string; groups: string[] }

/** Upstream's group for bootstrap-token users: allowed to join a node, nothing else. */
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';

/** Looks a bearer token up somewhere else (bootstrap-token Secrets); undefined when unknown. */
export type TokenSource = (token: string) => UserInfo | undefined;

/**
 * Authenticates a request by client certificate (signed by the cluster CA,
 * CN = user, O = groups) or bearer token. Anonymous requests get undefined.
 */
export class Authenticator {
  private readonly tokens = new Map<string, UserInfo>();

  addToken(token: string, user: UserInfo): void { this.tokens.set(token, user); }
  removeToken(token: string): void { this.tokens.delete(token); }

  private readonly sources: TokenSource[] = [];
  addTokenSource(source: TokenSource): void { this.sources.push(source); }

  /** A TLS connection's client certificate never changes: decode it once per connection, not per request. */
  private readonly certUsers = new WeakMap<TLSSocket, UserInfo | null>();

  private certificateUser(socket: TLSSocket): UserInfo | undefined {
    let user = this.certUsers.get(socket);
    if (user === undefined) {
      user = null;
      if (socket.authorized) {
        const cert = socket.getPeerCertificate();
        if (cert && cert.subject) {
          const groups = cert.subject.O === undefined ? [] : ([] as string[]).concat(cert.subject.O);
          user = { name: String(cert.subject.CN), groups: [...groups, 'system:authenticated'] };
        }
      }
      this.certUsers.set(socket, user);
    }
    return user ?? undefined;
  }

  authenticate(req: IncomingMessage): UserInfo | undefined {
    const fromCert = this.certificateUser(req.socket as TLSSocket);
    if (fromCert) return fromCert;
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      const presented = Buffer.from(header.slice(7).trim());
      for (const [token, user] of this.tokens) {
        const known = Buffer.from(token);
        if (known.length === presented.length && timingSafeEqual(known, presented)) return user;
      }
      for (const source of this.sources) {
        const user = source(presented.toString());
        if (user) return user;
      }
    }
    return undefined;
  }
}

/** Paths that anonymous clients may read, as upstream's system:public-info-viewer role allows. */
export const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);
