import { request, Agent } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HttpResult { status: number; headers: Record<string, string | string[] | undefined>; body: string; json<T = Record<string, unknown>>(): T }

/** Raw HTTPS to a bosun server as cluster-admin (client certificate), or anonymously. */
export class ApiHttp {
  readonly agent: Agent;
  private readonly anonymousAgent: Agent;

  constructor(readonly baseUrl: string, dataDir: string, maxSockets = 64) {
    const tls = join(dataDir, 'server', 'tls');
    const ca = readFileSync(join(tls, 'server-ca.crt'));
    this.agent = new Agent({ keepAlive: true, maxSockets, ca, cert: readFileSync(join(tls, 'client-admin.crt')), key: readFileSync(join(tls, 'client-admin.key')) });
    this.anonymousAgent = new Agent({ keepAlive: false, ca });
  }

  request(method: string, path: string, body?: string | Buffer | object, headers: Record<string, string> = {}, anonymous = false): Promise<HttpResult> {
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.baseUrl), {
        method,
        agent: anonymous ? this.anonymousAgent : this.agent,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers, ...(payload ? { 'Content-Length': Buffer.byteLength(payload) } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: <T>() => JSON.parse(text) as T });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  close(): void { this.agent.destroy(); this.anonymousAgent.destroy(); }
}

/** A minimal valid pod manifest. */
export const podManifest = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'main', image: '127.0.0.1:5000/busybox:1' }] },
});
