/**
 * Applying the proxy's rules with the machine's iptables (1.8, either
 * backend): one `iptables-restore --noflush` per sync, which replaces only
 * the chains it names and leaves every other rule of the host alone.
 */
import { execFile, spawn } from 'node:child_process';
import { isOwnChain, isServiceChain, jumpRules, validateChainPrefix, DEFAULT_CHAIN_PREFIX } from './rules.js';

export class IptablesError extends Error {
  constructor(message: string, readonly stderr: string) { super(message); }
}

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {}); // a failing command may close stdin early; its exit code says why
    child.stdin.end(input ?? '');
  });
}

/** `iptables-restore --noflush` of `text`; throws IptablesError with iptables' own message on failure. */
export async function restore(text: string): Promise<void> {
  // -w: wait for the xtables lock (legacy backend; harmless with nf_tables).
  const r = await run('iptables-restore', ['-w', '5', '--noflush'], text);
  if (r.code !== 0) throw new IptablesError(`iptables-restore failed (exit ${r.code}): ${r.stderr.trim()}`, r.stderr);
}

export async function save(table: 'nat' | 'filter'): Promise<string> {
  const r = await run('iptables-save', ['-t', table]);
  if (r.code !== 0) throw new IptablesError(`iptables-save -t ${table} failed: ${r.stderr.trim()}`, r.stderr);
  return r.stdout;
}

/** Chain names declared in iptables-save output. */
export function chainsIn(saved: string): string[] {
  const out: string[] = [];
  for (const line of saved.split('\n')) if (line.startsWith(':')) out.push(line.slice(1).split(' ')[0]!);
  return out;
}

/** The per-service nat chains under `prefix` that exist now. */
export async function existingServiceChains(prefix: string): Promise<string[]> {
  return chainsIn(await save('nat')).filter((c) => isServiceChain(prefix, c));
}

function iptables(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('iptables', ['-w', '5', ...args]);
}

/** Makes sure the built-in chains jump to ours, first in each (upstream prepends them too). */
export async function ensureJumps(prefix: string): Promise<void> {
  for (const j of jumpRules(prefix)) {
    const check = await iptables(['-t', j.table, '-C', j.chain, ...j.args]);
    if (check.code === 0) continue;
    const ins = await iptables(['-t', j.table, '-I', j.chain, '1', ...j.args]);
    if (ins.code !== 0) throw new IptablesError(`iptables -t ${j.table} -I ${j.chain} failed: ${ins.stderr.trim()}`, ins.stderr);
  }
}

/**
 * The restore text that removes every chain under `prefix` and every rule
 * elsewhere that jumps into one of them, from the given iptables-save output
 * of one table ('' when there is nothing of ours).
 */
export function cleanupText(table: 'nat' | 'filter', saved: string, prefix: string): string {
  const own = chainsIn(saved).filter((c) => isOwnChain(prefix, c));
  const jumps: string[] = [];
  for (const line of saved.split('\n')) {
    if (!line.startsWith('-A ')) continue;
    const chain = line.split(' ')[1]!;
    if (isOwnChain(prefix, chain)) continue;
    const target = / -[jg] (\S+)/.exec(line)?.[1];
    if (target && isOwnChain(prefix, target)) jumps.push(`-D ${line.slice(3)}`);
  }
  if (own.length === 0 && jumps.length === 0) return '';
  return [`*${table}`, ...jumps, ...own.map((c) => `:${c} - [0:0]`), ...own.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
}

/**
 * Removes every chain and jump the proxy made under `prefix` (`KUBE` by
 * default), in both tables, leaving the host's other rules as they are.
 * Safe to call when nothing is there; used by `bosun killall`/`uninstall`
 * and by tests.
 */
export async function cleanupProxyRules(prefix: string = DEFAULT_CHAIN_PREFIX): Promise<void> {
  validateChainPrefix(prefix);
  const errors: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    // Twice at most: a rule added between our save and our restore fails the first try.
    for (let attempt = 0; attempt < 3; attempt++) {
      const text = cleanupText(table, await save(table), prefix);
      if (!text) break;
      try { await restore(text); break; } catch (err) {
        if (attempt === 2) errors.push(String(err));
      }
    }
  }
  if (errors.length > 0) throw new Error(`removing ${prefix} proxy rules: ${errors.join('; ')}`);
}

/** Every line of iptables-save (both tables) that mentions a chain of ours, for tests and debugging. */
export async function ownRulesLeft(prefix: string): Promise<string[]> {
  const ours = new RegExp(`(^|[\\s:])${prefix}-`);
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    for (const line of (await save(table)).split('\n')) if (ours.test(line)) out.push(`${table}: ${line}`);
  }
  return out;
}

/** Sets a sysctl under /proc/sys, e.g. `net.ipv4.conf.all.route_localnet`. */
export async function setSysctl(name: string, value: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`/proc/sys/${name.replaceAll('.', '/')}`, value);
}

export async function hasCommand(cmd: string): Promise<boolean> {
  return new Promise((resolve) => execFile(cmd, ['--version'], (err) => resolve(!err)));
}
