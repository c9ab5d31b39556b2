/**
 * pods/eviction: a delete that first asks the pod's PodDisruptionBudget, as
 * upstream's pkg/registry/core/pod/storage/eviction.go. `kubectl drain` posts
 * one Eviction per pod and retries while the answer is 429.
 */
import type { Pod, PodCondition } from 'kubernetes-types/core/v1';
import type { DeleteOptions, Status } from 'kubernetes-types/meta/v1';
import type { Eviction, PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { StatusError, badRequest, conflict, forbidden } from '../../api/status.js';
import { nowTimestamp } from '../../api/meta.js';
import { labelSelectorFromObject } from '../../api/labels.js';
import type { ResourceRegistry } from '../registry.js';
import type { KubeObject } from '../strategy.js';

/**
 * Upstream's MaxDisruptedPodSize: past this many evictions that the
 * disruption controller has not yet seen, the budget refuses more.
 */
export const MAX_DISRUPTED_POD_SIZE = 2000;

/** policyv1.DisruptionBudgetCause */
export const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';

export const EVICTION_VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget.";

/** Upstream's EvictionsRetry: 20 tries, 500 ms apart, on conflicts. */
const EVICTION_RETRIES = 20;
const EVICTION_RETRY_MS = 500;

export interface EvictionRequest {
  pods: ResourceRegistry;
  /** Absent when the server does not serve policy/v1 PodDisruptionBudgets. */
  pdbs: ResourceRegistry | undefined;
  namespace: string;
  name: string;
  eviction: Eviction;
  dryRun: boolean;
}

type PodObj = Pod & KubeObject;
type PDBObj = PodDisruptionBudget & KubeObject;

const tooManyRequests = (message: string, retryAfterSeconds: number, causeMessage: string): StatusError =>
  new StatusError(429, 'TooManyRequests', message, {
    ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
    causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: causeMessage }],
  });

/** createTooManyRequestsError: the budget has not caught up with its spec yet. */
const budgetBeingProcessed = (pdbName: string): StatusError =>
  tooManyRequests(EVICTION_VIOLATES_BUDGET, 10, `The disruption budget ${pdbName} is still being processed by the server.`);

const isConflict = (err: unknown): boolean => err instanceof StatusError && err.code === 409;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function unversioned<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as { resourceVersion?: string } | undefined;
  if (meta) delete meta.resourceVersion;
  return obj;
}

/** Terminal, pending or already deleting pods have caused their disruption already: no budget to ask. */
function canIgnorePDB(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata?.deletionTimestamp;
}

/** A running pod must not turn ready between our look at it and the delete. */
function shouldEnforceResourceVersion(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp);
}

const isPodReady = (pod: Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

const resourceVersionIsUnset = (options: DeleteOptions): boolean => !options.preconditions?.resourceVersion;

function withResourceVersion(options: DeleteOptions, resourceVersion: string | undefined): DeleteOptions {
  return { ...options, preconditions: { ...options.preconditions, resourceVersion } };
}

/** The budgets in the pod's namespace whose selector matches it; an empty selector matches nothing here. */
async function podDisruptionBudgets(pdbs: ResourceRegistry, pod: Pod): Promise<PDBObj[]> {
  const list = await pdbs.list(pod.metadata?.namespace, { filter: { matches: () => true }, unfiltered: true });
  const out: PDBObj[] = [];
  for (const item of list.items) {
    const pdb = item.object as PDBObj;
    let selector;
    try {
      selector = labelSelectorFromObject(pdb.spec?.selector);
    } catch {
      continue; // an invalid selector matches no pod
    }
    if (selector.empty() || !selector.matches(pod.metadata?.labels ?? {})) continue;
    out.push(pdb);
  }
  return out;
}

/**
 * checkAndDecrement, on the freshest budget: refuse when it allows no
 * disruption, else take one and note the pod so that the controller does
 * not count it as healthy while it goes away.
 */
function checkAndDecrement(pdb: PDBObj, podName: string): PDBObj {
  const status = pdb.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  const name = pdb.metadata?.name ?? '';
  if ((status.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) throw budgetBeingProcessed(name);
  if (status.disruptionsAllowed < 0) {
    throw forbidden(`poddisruptionbudget.policy "${name}" is forbidden: pdb disruptions allowed is negative`);
  }
  if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
    throw forbidden(`poddisruptionbudget.policy "${name}" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller`);
  }
  if (status.disruptionsAllowed === 0) {
    throw tooManyRequests(EVICTION_VIOLATES_BUDGET, 0,
      `The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`);
  }
  status.disruptionsAllowed--;
  if (status.disruptionsAllowed === 0) setDisruptionAllowedCondition(status);
  status.disruptedPods = { ...status.disruptedPods, [podName]: nowTimestamp() };
  pdb.status = status;
  return pdb;
}

/** pdbhelper.UpdateDisruptionAllowedCondition for a budget that just ran out. */
function setDisruptionAllowedCondition(status: NonNullable<PodDisruptionBudget['status']>): void {
  const conditions = status.conditions ?? [];
  const current = conditions.find((c) => c.type === 'DisruptionAllowed');
  if (current?.status === 'False' && current.reason === 'InsufficientPods') return;
  const next = {
    type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '',
    observedGeneration: status.observedGeneration, lastTransitionTime: nowTimestamp(),
  };
  status.conditions = [...conditions.filter((c) => c.type !== 'DisruptionAllowed'), next];
}

/**
 * addConditionAndDeletePod: mark the pod DisruptionTarget (so its owner and
 * the user can tell an eviction from a crash), then delete it.
 */
async function addConditionAndDeletePod(req: EvictionRequest, options: DeleteOptions): Promise<void> {
  let opts = options;
  if (!req.dryRun) {
    const updated = await req.pods.guaranteedUpdate(req.namespace, req.name, (current) => {
      const pod = current as PodObj;
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== pod.metadata?.uid) {
        throw conflict(req.pods.groupResource, req.name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${pod.metadata?.uid ?? ''}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== pod.metadata?.resourceVersion) {
        throw conflict(req.pods.groupResource, req.name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${pod.metadata?.resourceVersion ?? ''}`);
      }
      unversioned(pod); // the precondition is checked above; a lost race is retried on the fresh pod
      const status = (pod.status ??= {});
      const conditions = status.conditions ?? [];
      const existing = conditions.find((c) => c.type === 'DisruptionTarget');
      if (existing?.status === 'True' && existing.reason === 'EvictionByEvictionAPI') return pod;
      const condition: PodCondition = {
        type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting',
        lastTransitionTime: nowTimestamp(),
      };
      status.conditions = [...conditions.filter((c) => c.type !== 'DisruptionTarget'), condition];
      return pod;
    }, { dryRun: false, subresource: 'status' });
    // Our own write moved the pod's resourceVersion: the caller's precondition follows it.
    if (!resourceVersionIsUnset(opts)) opts = withResourceVersion(opts, updated.metadata?.resourceVersion);
  }
  await req.pods.delete(req.namespace, req.name, opts, { dryRun: req.dryRun });
}

/** Evicts one pod; resolves to the Status to answer with, throws a StatusError otherwise. */
export async function evictPod(request: EvictionRequest): Promise<{ code: number; status: Status }> {
  const { eviction } = request;
  // propagateDryRun: kubectl drain --dry-run=server asks in the Eviction's DeleteOptions, not the query.
  const req = { ...request, dryRun: request.dryRun || (eviction.deleteOptions?.dryRun ?? []).includes('All') };
  if (eviction.metadata?.name !== req.name) throw badRequest('name in URL does not match name in Eviction object');
  const original: DeleteOptions = { ...(eviction.deleteOptions ?? {}) };
  const success = { code: 201, status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } satisfies Status };

  // A pod that needs no budget is deleted straight away, retrying on conflicts
  // unless the caller pinned a resourceVersion.
  let pod: PodObj | undefined;
  for (let attempt = 0; ; attempt++) {
    pod = await req.pods.get(req.namespace, req.name) as PodObj;
    if (!canIgnorePDB(pod)) break;
    const options = shouldEnforceResourceVersion(pod) && resourceVersionIsUnset(original)
      ? withResourceVersion(original, pod.metadata?.resourceVersion) : original;
    try {
      await addConditionAndDeletePod(req, options);
      return success;
    } catch (err) {
      if (!isConflict(err) || !resourceVersionIsUnset(original) || attempt + 1 >= EVICTION_RETRIES) throw err;
      await sleep(EVICTION_RETRY_MS);
    }
  }

  let pdbName = '';
  let pinResourceVersion = false;
  if (req.pdbs) {
    const pdbs = await podDisruptionBudgets(req.pdbs, pod);
    if (pdbs.length > 1) {
      return {
        code: 500,
        status: {
          kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 500,
          message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
        },
      };
    }
    const pdb = pdbs[0];
    if (pdb) {
      pdbName = pdb.metadata?.name ?? '';
      let decrement = true;
      if (!isPodReady(pod)) {
        // An unready pod counts for nothing in the budget: evict it when the policy
        // says always, or while the budget is met without it (IfHealthyBudget).
        const status = pdb.status;
        if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow'
          || (status && status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0)) {
          decrement = false;
          pinResourceVersion = true;
        }
      }
      if (decrement) {
        if (req.dryRun) {
          checkAndDecrement(structuredClone(pdb), req.name);
        } else {
          // No resourceVersion on what we write back: guaranteedUpdate then retries a lost race
          // with the budget read afresh (upstream's RetryOnConflict with refresh).
          await req.pdbs.guaranteedUpdate(req.namespace, pdbName, (current) => unversioned(checkAndDecrement(current as PDBObj, req.name)),
            { dryRun: false, subresource: 'status' });
        }
      }
    }
  }

  const options = pinResourceVersion ? withResourceVersion(original, pod.metadata?.resourceVersion) : original;
  try {
    await addConditionAndDeletePod(req, options);
  } catch (err) {
    // The unready pod changed (turned ready?) since we looked: the client should ask again.
    if (isConflict(err) && pinResourceVersion && resourceVersionIsUnset(original)) throw budgetBeingProcessed(pdbName);
    throw err;
  }
  return success;
}
