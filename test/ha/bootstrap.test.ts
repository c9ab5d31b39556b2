/**
 * Joining a cluster safely: the CA is trusted only when its hash matches the
 * token's, and the CA key goes only to a bearer of the server token. Also the
 * snapshot schedule's cron arithmetic.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { fetchServerBootstrap, SERVER_BOOTSTRAP_PATH } from '../../src/server/bootstrap.js';
import { parseToken, formatToken } from '../../src/server/token.js';
import { cronSchedule } from '../../src/etcd/schedule.js';

describe('server bootstrap', () => {
  let t: TestServer;
  let token = '';
  before(async () => {
    t = await startTestServer();
    token = (await readFile(t.server.tokenPath, 'utf8')).trim();
  });
  after(async () => { await t?.stop(); });

  it('hands the CA (checked against the token hash) and its key to a server-token bearer', async () => {
    const data = await fetchServerBootstrap(t.url, token);
    assert.equal(createHash('sha256').update(data.ca.certPem).digest('hex'), parseToken(token).caHash);
    assert.match(data.ca.keyPem, /PRIVATE KEY/);
    assert.deepEqual(data.etcdClientURLs, []);
  });

  it('refuses a token with another CA hash before sending the secret', async () => {
    const wrong = formatToken({ ...parseToken(token), caHash: 'a'.repeat(64) });
    await assert.rejects(fetchServerBootstrap(t.url, wrong), /does not match the token's/);
  });

  it('gives the CA key only to a bearer of the server token', async () => {
    const wrong = formatToken({ ...parseToken(token), secret: 'not-the-secret' });
    await assert.rejects(fetchServerBootstrap(t.url, wrong), new RegExp(`${SERVER_BOOTSTRAP_PATH}: HTTP 401`));
    await assert.rejects(fetchServerBootstrap(t.url, parseToken(token).secret), /needs the full token/);
  });
});

describe('snapshot schedule', () => {
  it('follows five-field cron expressions', () => {
    const at = (s: string) => new Date(s);
    assert.equal(cronSchedule('0 */12 * * *').next(at('2026-01-01T05:30:00')).toISOString(), at('2026-01-01T12:00:00').toISOString());
    assert.equal(cronSchedule('0 */12 * * *').next(at('2026-01-01T12:00:00')).toISOString(), at('2026-01-02T00:00:00').toISOString());
    assert.equal(cronSchedule('*/15 * * * *').next(at('2026-01-01T05:31:10')).toISOString(), at('2026-01-01T05:45:00').toISOString());
    assert.equal(cronSchedule('30 2 * * 0').next(at('2026-01-01T00:00:00')).toISOString(), at('2026-01-04T02:30:00').toISOString());
    assert.equal(cronSchedule('30 2 * * 7').next(at('2026-01-01T00:00:00')).toISOString(), at('2026-01-04T02:30:00').toISOString());
    assert.throws(() => cronSchedule('* * *'), /5 fields/);
    assert.throws(() => cronSchedule('61 * * * *'), /invalid cron field/);
  });
});
