import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { Client } from '../client/client.js';
import { LeaderElector, leaseLock } from '../client/leader-election.js';

/** What a leader-elected component (scheduler, controller-manager) gets to run with. */
export interface ControlLoopContext {
  client: Client;
  /** Aborts the moment leadership is lost or the server stops: all work stops with it. */
  signal: AbortSignal;
  /** The server's Prometheus registry, served at /metrics. */
  metrics: Registry;
  /** This server's identity in the Lease (also the event source host). */
  identity: string;
  log: (message: string) => void;
}

/** A component that must run in exactly one server at a time, as kube-scheduler and kube-controller-manager do. */
export interface ControlLoop {
  name: string;
  /** The Lease in kube-system this component elects its leader on. */
  leaseName: string;
  run(ctx: ControlLoopContext): Promise<void>;
}

export interface LeaderElectionTimings { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number }
/** Upstream's defaults: --leader-elect-lease-duration 15s, --leader-elect-renew-deadline 10s, --leader-elect-retry-period 2s. */
export const DEFAULT_LEADER_ELECTION: LeaderElectionTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/**
 * Runs each loop whenever this server holds its Lease: campaigns, runs while
 * leading, stops at once on losing it, and campaigns again — until `signal`.
 */
export function runControlLoops(
  loops: ControlLoop[], client: Client, opts: { signal: AbortSignal; metrics: Registry; identity?: string; timings?: LeaderElectionTimings; log: (m: string) => void },
): Promise<void[]> {
  const identity = opts.identity ?? `${hostname()}_${process.pid}`;
  const timings = opts.timings ?? DEFAULT_LEADER_ELECTION;
  return Promise.all(loops.map(async (loop) => {
    const elector = new LeaderElector({
      lock: leaseLock(client, 'kube-system', loop.leaseName),
      identity,
      ...timings,
      onStartedLeading: async (signal) => {
        opts.log(`${loop.name}: leading (lease kube-system/${loop.leaseName})`);
        try {
          await loop.run({ client, signal, metrics: opts.metrics, identity, log: (m) => opts.log(`${loop.name}: ${m}`) });
        } catch (err) {
          if (!signal.aborted) opts.log(`${loop.name}: stopped with an error: ${err instanceof Error ? err.message : String(err)}`);
        }
      },
      onStoppedLeading: () => { if (!opts.signal.aborted) opts.log(`${loop.name}: lost the lease, stopped`); },
    });
    await elector.campaign(opts.signal);
  }));
}
