import type { Pod, PodSecurityContext, PodSpec, PodTemplateSpec, Toleration } from 'kubernetes-types/core/v1';
import type { FieldError } from '../status.js';
import { validateContainers, validateInitContainers } from './containers.js';
import { duplicate, forbidden, inclusiveRangeError, invalid, invalidEach, notSupported, required } from './errors.js';
import { validateIP } from './ip.js';
import { validateLabelSelector } from './label-selector.js';
import { validateLabelName, validateLabels } from './labels.js';
import { validateAnnotations, validateObjectMeta } from './metadata.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, nameIsDNSSubdomain } from './names.js';
import { child, index, key } from './path.js';
import { validateResourceRequirements } from './resources.js';
import { validateVolumes } from './volumes.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const MAX_INT32 = 2147483647;
const MAX_ID = 4294967295;
const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export interface PodSpecOptions {
  /** A Pod itself rather than a template inside a controller: hostNetwork ports must already match. */
  isPod: boolean;
}

/** ValidatePodSpec, the checks bosun can act on (see the report for what is left out). */
export function validatePodSpec(spec: PodSpec | undefined, field: string, opts: PodSpecOptions): FieldError[] {
  const s: Partial<PodSpec> = spec ?? {};
  const errs: FieldError[] = [];
  if (s.terminationGracePeriodSeconds === undefined) errs.push(required(child(field, 'terminationGracePeriodSeconds')));
  const grace = s.terminationGracePeriodSeconds;
  const { volumes, errors } = validateVolumes(s.volumes, child(field, 'volumes'));
  errs.push(...errors);
  errs.push(...validateContainers(s.containers, volumes, grace, child(field, 'containers')));
  errs.push(...validateInitContainers(s.initContainers, s.containers, volumes, grace, child(field, 'initContainers')));
  errs.push(...validateHostNetworkPorts(s, field, opts));
  errs.push(...validateEnum(s.restartPolicy, RESTART_POLICIES, child(field, 'restartPolicy')));
  errs.push(...validateEnum(s.dnsPolicy, DNS_POLICIES, child(field, 'dnsPolicy')));
  errs.push(...validateLabels(s.nodeSelector, child(field, 'nodeSelector')));
  errs.push(...validatePodSecurityContext(s.securityContext, child(field, 'securityContext')));
  errs.push(...validateAffinitySelectors(s, child(field, 'affinity')));
  errs.push(...validateDNSConfig(s, child(field, 'dnsConfig')));
  (s.readinessGates ?? []).forEach((g, i) =>
    errs.push(...invalidEach(child(index(child(field, 'readinessGates'), i), 'conditionType'), g.conditionType, isQualifiedName(g.conditionType))));
  errs.push(...validateSchedulingGates(s, child(field, 'schedulingGates')));
  if (s.serviceAccountName) errs.push(...invalidEach(child(field, 'serviceAccountName'), s.serviceAccountName, isDNS1123Subdomain(s.serviceAccountName)));
  if (s.nodeName) errs.push(...invalidEach(child(field, 'nodeName'), s.nodeName, isDNS1123Subdomain(s.nodeName)));
  if (s.activeDeadlineSeconds !== undefined && (s.activeDeadlineSeconds < 1 || s.activeDeadlineSeconds > MAX_INT32)) {
    errs.push(invalid(child(field, 'activeDeadlineSeconds'), s.activeDeadlineSeconds, inclusiveRangeError(1, MAX_INT32)));
  }
  if (s.hostname) errs.push(...invalidEach(child(field, 'hostname'), s.hostname, isDNS1123Label(s.hostname)));
  if (s.subdomain) errs.push(...invalidEach(child(field, 'subdomain'), s.subdomain, isDNS1123Label(s.subdomain)));
  if (s.tolerations?.length) errs.push(...validateTolerations(s.tolerations, child(field, 'tolerations')));
  (s.hostAliases ?? []).forEach((alias, i) => {
    const p = index(child(field, 'hostAliases'), i);
    errs.push(...validateIP(alias.ip ?? '', child(p, 'ip')));
    (alias.hostnames ?? []).forEach((h, j) => errs.push(...invalidEach(index(child(p, 'hostnames'), j), h, isDNS1123Subdomain(h))));
  });
  if (s.priorityClassName) errs.push(...invalidEach(child(field, 'priorityClassName'), s.priorityClassName, nameIsDNSSubdomain(s.priorityClassName, false)));
  if (s.runtimeClassName !== undefined) errs.push(...invalidEach(child(field, 'runtimeClassName'), s.runtimeClassName, nameIsDNSSubdomain(s.runtimeClassName, false)));
  if (s.preemptionPolicy !== undefined) errs.push(...validateEnum(s.preemptionPolicy, PREEMPTION_POLICIES, child(field, 'preemptionPolicy')));
  if (s.overhead) errs.push(...validateResourceRequirements({ limits: s.overhead }, child(field, 'overhead')));
  if (s.os) {
    if (!s.os.name) errs.push(required(child(field, 'os', 'name'), 'cannot be empty'));
    else if (!['linux', 'windows'].includes(s.os.name)) errs.push(notSupported(child(field, 'os'), s.os.name, ['linux', 'windows']));
  }
  return errs;
}

/** Required when empty, else one of the listed values. */
function validateEnum(value: string | undefined, allowed: string[], field: string): FieldError[] {
  if (!value) return [required(field)];
  return allowed.includes(value) ? [] : [notSupported(field, value, allowed)];
}

function validateHostNetworkPorts(spec: Partial<PodSpec>, field: string, opts: PodSpecOptions): FieldError[] {
  if (!spec.hostNetwork) return [];
  const errs: FieldError[] = [];
  (spec.containers ?? []).forEach((c, ci) => (c.ports ?? []).forEach((p, pi) => {
    const hp = p.hostPort ?? 0;
    // a template may leave hostPort 0: it is defaulted when the pod is made
    if ((opts.isPod || hp !== 0) && hp !== p.containerPort) {
      errs.push(invalid(child(index(child(index(child(field, 'containers'), ci), 'ports'), pi), 'hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'));
    }
  }));
  return errs;
}

function validatePodSecurityContext(sc: PodSecurityContext | undefined, field: string): FieldError[] {
  if (!sc) return [];
  const errs: FieldError[] = [];
  for (const k of ['fsGroup', 'runAsUser', 'runAsGroup'] as const) {
    const v = sc[k];
    if (v !== undefined && (v < 0 || v > MAX_ID)) errs.push(invalid(child(field, k), v, inclusiveRangeError(0, MAX_ID)));
  }
  (sc.supplementalGroups ?? []).forEach((g, i) => {
    if (g < 0 || g > MAX_ID) errs.push(invalid(index(child(field, 'supplementalGroups'), i), g, inclusiveRangeError(0, MAX_ID)));
  });
  if (sc.fsGroupChangePolicy !== undefined && !['Always', 'OnRootMismatch'].includes(sc.fsGroupChangePolicy)) {
    errs.push(notSupported(child(field, 'fsGroupChangePolicy'), sc.fsGroupChangePolicy, ['Always', 'OnRootMismatch']));
  }
  (sc.sysctls ?? []).forEach((s, i) => { if (!s.name) errs.push(required(child(index(child(field, 'sysctls'), i), 'name'))); });
  return errs;
}

/** Label selectors inside pod (anti-)affinity terms; node affinity is left to the scheduler. */
function validateAffinitySelectors(spec: Partial<PodSpec>, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const a = spec.affinity?.[kind];
    if (!a) continue;
    const base = child(field, kind);
    (a.requiredDuringSchedulingIgnoredDuringExecution ?? []).forEach((term, i) => {
      const p = index(child(base, 'requiredDuringSchedulingIgnoredDuringExecution'), i);
      errs.push(...validateLabelSelector(term.labelSelector, child(p, 'labelSelector')));
      errs.push(...validateLabelSelector(term.namespaceSelector, child(p, 'namespaceSelector')));
      if (!term.topologyKey) errs.push(required(child(p, 'topologyKey'), 'can not be empty'));
    });
    (a.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((w, i) => {
      const p = index(child(base, 'preferredDuringSchedulingIgnoredDuringExecution'), i);
      if (w.weight < 1 || w.weight > 100) errs.push(invalid(child(p, 'weight'), w.weight, inclusiveRangeError(1, 100)));
      errs.push(...validateLabelSelector(w.podAffinityTerm.labelSelector, child(p, 'podAffinityTerm', 'labelSelector')));
      if (!w.podAffinityTerm.topologyKey) errs.push(required(child(p, 'podAffinityTerm', 'topologyKey'), 'can not be empty'));
    });
  }
  return errs;
}

function validateDNSConfig(spec: Partial<PodSpec>, field: string): FieldError[] {
  const cfg = spec.dnsConfig;
  if (spec.dnsPolicy === 'None') {
    if (!cfg) return [required(field, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (!cfg.nameservers?.length) return [required(child(field, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!cfg) return [];
  const errs: FieldError[] = [];
  if ((cfg.nameservers ?? []).length > 3) errs.push(invalid(child(field, 'nameservers'), cfg.nameservers, 'must not have more than 3 nameservers'));
  (cfg.nameservers ?? []).forEach((ns, i) => errs.push(...validateIP(ns, index(child(field, 'nameservers'), i))));
  const searches = cfg.searches ?? [];
  if (searches.length > 32) errs.push(invalid(child(field, 'searches'), searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) errs.push(invalid(child(field, 'searches'), searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  searches.forEach((s, i) => {
    const trimmed = s.endsWith('.') ? s.slice(0, -1) : s;
    errs.push(...invalidEach(index(child(field, 'searches'), i), trimmed, isDNS1123Subdomain(trimmed)));
  });
  (cfg.options ?? []).forEach((o, i) => { if (!o.name) errs.push(required(index(child(field, 'options'), i), 'must not be empty')); });
  return errs;
}

function validateSchedulingGates(spec: Partial<PodSpec>, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (spec.schedulingGates ?? []).forEach((g, i) => {
    errs.push(...invalidEach(index(field, i), g.name, isQualifiedName(g.name)));
    if (seen.has(g.name)) errs.push(duplicate(index(field, i), g.name));
    seen.add(g.name);
  });
  return errs;
}

/** ValidateTolerations. */
export function validateTolerations(tolerations: Toleration[], field: string): FieldError[] {
  const errs: FieldError[] = [];
  tolerations.forEach((t, i) => {
    const p = index(field, i);
    if (t.key) errs.push(...validateLabelName(t.key, child(p, 'key')));
    if (!t.key && t.operator !== 'Exists') {
      errs.push(invalid(child(p, 'operator'), t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      errs.push(invalid(child(p, 'effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (t.operator ?? '') {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(t.value ?? '');
        if (msgs.length) errs.push(invalid(child(p, 'operator'), t.value ?? '', msgs.join(';')));
        break;
      }
      case 'Exists':
        if (t.value) errs.push(invalid(child(p, 'operator'), t.value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(child(p, 'operator'), t.operator, ['Equal', 'Exists']));
    }
    if (t.effect && !TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(child(p, 'effect'), t.effect, TAINT_EFFECTS));
  });
  return errs;
}

/** ValidatePodSpecificAnnotations: the deletion cost a ReplicaSet reads must be an int32. */
export function validatePodSpecificAnnotations(annotations: Record<string, string> | undefined, spec: PodSpec | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const mirror = annotations?.['kubernetes.io/config.mirror'];
  if (mirror !== undefined && !spec?.nodeName) errs.push(invalid(key(field, 'kubernetes.io/config.mirror'), mirror, 'must set spec.nodeName if mirror pod annotation is set'));
  const cost = annotations?.[POD_DELETION_COST];
  if (cost !== undefined && !(/^[+-]?\d+$/.test(cost.trim()) && Math.abs(Number(cost)) <= MAX_INT32 + (Number(cost) < 0 ? 1 : 0))) {
    errs.push(invalid(key(field, POD_DELETION_COST), cost, 'must be a 32bit integer'));
  }
  return errs;
}

/** ValidatePodTemplateSpec: a template's labels, annotations and spec. */
export function validatePodTemplateSpec(template: PodTemplateSpec, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const meta = template.metadata ?? {};
  errs.push(...validateLabels(meta.labels, child(field, 'labels')));
  errs.push(...validateAnnotations(meta.annotations, child(field, 'annotations')));
  errs.push(...validatePodSpecificAnnotations(meta.annotations, template.spec, child(field, 'annotations')));
  errs.push(...validatePodSpec(template.spec, child(field, 'spec'), { isPod: false }));
  if (template.spec?.ephemeralContainers?.length) {
    errs.push(forbidden(child(field, 'spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}

/** ValidatePodCreate: metadata, spec and the checks only a real Pod gets. */
export function validatePod(pod: Pod): FieldError[] {
  const errs = validateObjectMeta(pod.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  errs.push(...validatePodSpecificAnnotations(pod.metadata?.annotations, pod.spec, 'metadata.annotations'));
  errs.push(...validatePodSpec(pod.spec, 'spec', { isPod: true }));
  const spec = pod.spec;
  if (!spec?.serviceAccountName) {
    (spec?.volumes ?? []).forEach((v, vi) => (v.projected?.sources ?? []).forEach((src, si) => {
      if (src.serviceAccountToken) {
        errs.push(forbidden(`spec.volumes[${vi}].projected.sources[${si}].serviceAccountToken`, 'must not be specified when serviceAccountName is not set'));
      }
    }));
  }
  for (const list of ['containers', 'initContainers'] as const) {
    (spec?.[list] ?? []).forEach((c, i) => {
      if (c.image !== undefined && c.image !== c.image.trim()) errs.push(invalid(`spec.${list}[${i}].image`, c.image, 'must not have leading or trailing whitespace'));
    });
  }
  return errs;
}
