import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Secret } from 'kubernetes-types/core/v1';
import { Client, isNotFound, secrets } from '../client/index.js';
import { defaultDataDir } from '../server/data-dir.js';
import { BOOTSTRAP_TOKEN_PREFIX, BOOTSTRAP_TOKEN_TYPE, bootstrapTokenSecret, newBootstrapToken } from '../server/bootstrap-tokens.js';
import { caHashOf } from '../server/pki.js';

export const TOKEN_USAGE = `Usage:
  bosun token create [--ttl 24h] [--description TEXT]   print a new join token (K10<ca hash>::<id>.<secret>)
  bosun token list                                       tokens and when they expire
  bosun token delete ID...                               revoke tokens
Flags: --data-dir DIR (the server's; its kubeconfig.yaml is used)
`;

/** `24h`, `90m`, `3600s`, `3600`; 0 means never expires. */
export function parseTtl(text: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid --ttl ${JSON.stringify(text)}: want e.g. 24h, 90m, 0`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}

const field = (s: Secret, key: string) => (s.data?.[key] ? Buffer.from(s.data[key], 'base64').toString('utf8') : '');

function untilText(expiration: string, now = Date.now()): string {
  if (!expiration) return '<forever>';
  const s = Math.round((Date.parse(expiration) - now) / 1000);
  if (s <= 0) return '<expired>';
  return s >= 3600 ? `${Math.floor(s / 3600)}h` : s >= 60 ? `${Math.floor(s / 60)}m` : `${s}s`;
}

export async function token(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest, allowPositionals: true, strict: true,
    options: { 'data-dir': { type: 'string', short: 'd' }, ttl: { type: 'string' }, description: { type: 'string' } },
  });
  const dataDir = values['data-dir'] ?? process.env.BOSUN_DATA_DIR ?? defaultDataDir();
  if (!verb || verb === 'help' || verb === '--help') { process.stdout.write(TOKEN_USAGE); return; }
  const client = await Client.fromKubeconfig(join(dataDir, 'kubeconfig.yaml'));
  try {
    switch (verb) {
      case 'create': {
        const caPem = await readFile(join(dataDir, 'server', 'tls', 'server-ca.crt'), 'utf8');
        const caHash = caHashOf(caPem);
        const t = newBootstrapToken();
        await client.create(secrets, bootstrapTokenSecret(t, {
          ttlSeconds: parseTtl(values.ttl ?? '24h'), description: values.description,
          groups: ['system:bootstrappers:bosun:default-node-token'],
        }));
        console.log(`K10${caHash}::${t.id}.${t.secret}`);
        return;
      }
      case 'list': {
        const list = (await client.list(secrets, { namespace: 'kube-system', fieldSelector: `type=${BOOTSTRAP_TOKEN_TYPE}` })).items;
        const rows = [['TOKEN-ID', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION']];
        for (const s of list) {
          const exp = field(s, 'expiration');
          rows.push([field(s, 'token-id'), untilText(exp), exp || '<never>', 'authentication', field(s, 'description')]);
        }
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('   ').trimEnd());
        return;
      }
      case 'delete': {
        if (!positionals.length) throw new Error('bosun token delete: give the ID of at least one token');
        for (const id of positionals) {
          const bare = id.replace(/^K10[0-9a-f]{64}::/, '').split('.')[0];
          try {
            await client.delete(secrets, 'kube-system', `${BOOTSTRAP_TOKEN_PREFIX}${bare}`);
            console.log(`bootstrap token "${bare}" deleted`);
          } catch (err) {
            if (!isNotFound(err)) throw err;
            throw new Error(`bootstrap token "${bare}" not found`);
          }
        }
        return;
      }
      default:
        throw new Error(`bosun token: unknown command "${verb}"\n${TOKEN_USAGE}`);
    }
  } finally {
    client.close();
  }
}
