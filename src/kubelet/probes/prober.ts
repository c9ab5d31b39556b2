import { request } from 'node:http';
import { connect } from 'node:net';
import type { Container, HTTPGetAction, LifecycleHandler, Probe } from 'kubernetes-types/core/v1';
import type { CriClient } from '../cri/client.js';

export interface ProbeResult { ok: boolean; message: string }

export interface ProbeTarget {
  runtime: CriClient;
  containerId: string;
  container: Container;
  /** Probes and hooks over the network go to the pod's own IP only: nothing else on or off the machine. */
  podIP: string;
}

/** One try of a probe (or a lifecycle handler): exec via CRI ExecSync, httpGet or tcpSocket to the pod IP. */
export async function runHandler(handler: Probe | LifecycleHandler, target: ProbeTarget, timeoutSeconds = 1): Promise<ProbeResult> {
  try {
    if (handler.exec) {
      const res = await target.runtime.execSync(target.containerId, handler.exec.command ?? [], timeoutSeconds);
      const out = (res.stdout.toString() + res.stderr.toString()).trim().slice(0, 1024);
      return res.exitCode === 0 ? { ok: true, message: out } : { ok: false, message: `command ${JSON.stringify(handler.exec.command ?? [])} exited with ${res.exitCode}: ${out}` };
    }
    if (handler.httpGet) return await httpGet(handler.httpGet, target, timeoutSeconds);
    if (handler.tcpSocket) {
      const port = resolvePort(handler.tcpSocket.port, target.container);
      return await tcp(target.podIP, port, timeoutSeconds);
    }
    if ('sleep' in handler && handler.sleep) {
      await new Promise((r) => setTimeout(r, handler.sleep!.seconds * 1000));
      return { ok: true, message: '' };
    }
    return { ok: false, message: 'no probe handler' };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

export function resolvePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`couldn't find port ${port} in container ${container.name}`);
  return named.containerPort;
}

function httpGet(action: HTTPGetAction, target: ProbeTarget, timeoutSeconds: number): Promise<ProbeResult> {
  const port = resolvePort(action.port, target.container);
  if (!target.podIP) return Promise.resolve({ ok: false, message: 'pod has no IP yet' });
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
  for (const h of action.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolve) => {
    const req = request({
      host: target.podIP, port, path: action.path ?? '/', method: 'GET', headers, timeout: timeoutSeconds * 1000,
    }, (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => resolve(code >= 200 && code < 400
        ? { ok: true, message: '' }
        : { ok: false, message: `HTTP probe failed with statuscode: ${code}` }));
    });
    req.on('timeout', () => req.destroy(new Error(`Get "http://${target.podIP}:${port}${action.path ?? '/'}": context deadline exceeded`)));
    req.on('error', (err) => resolve({ ok: false, message: err.message }));
    req.end();
  });
}

function tcp(host: string, port: number, timeoutSeconds: number): Promise<ProbeResult> {
  if (!host) return Promise.resolve({ ok: false, message: 'pod has no IP yet' });
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => { sock.destroy(); resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` }); }, timeoutSeconds * 1000);
    sock.on('connect', () => { clearTimeout(timer); sock.destroy(); resolve({ ok: true, message: '' }); });
    sock.on('error', (err) => { clearTimeout(timer); resolve({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` }); });
  });
}
