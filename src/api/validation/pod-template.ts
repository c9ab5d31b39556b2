import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import type { FieldError } from '../status.js';
import { forbidden, invalid, notSupported, required } from './errors.js';
import { isEmptySelector, labelSelectorMatches, mapSelectorMatches } from './label-selector.js';
import { child } from './path.js';
import { validatePodTemplateSpec } from './pod-spec.js';

/**
 * ValidatePodTemplateSpecForReplicaSet / …ForRC: the one template validator
 * Deployments, ReplicaSets and ReplicationControllers share. The selector
 * must select the template's own pods, and controller pods always restart.
 */
export function validateControllerPodTemplate(
  template: PodTemplateSpec | undefined,
  selector: LabelSelector | Record<string, string> | undefined,
  field: string,
  kind: 'ReplicaSet' | 'ReplicationController',
): FieldError[] {
  if (!template) return [required(field)];
  const errs: FieldError[] = [];
  const labels = template.metadata?.labels;
  if (selector && !isMapSelector(selector) && !isEmptySelector(selector)) {
    if (!labelSelectorMatches(selector, labels)) errs.push(invalid(child(field, 'metadata', 'labels'), labels ?? {}, '`selector` does not match template `labels`'));
  } else if (selector && isMapSelector(selector) && Object.keys(selector).length > 0) {
    if (!mapSelectorMatches(selector, labels)) errs.push(invalid(child(field, 'metadata', 'labels'), labels ?? {}, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, field));
  const restartPolicy = template.spec?.restartPolicy;
  if (restartPolicy !== 'Always') errs.push(notSupported(child(field, 'spec', 'restartPolicy'), restartPolicy ?? '', ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(forbidden(child(field, 'spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

/** A LabelSelector has only matchLabels/matchExpressions; anything else is a plain map selector. */
function isMapSelector(selector: LabelSelector | Record<string, string>): selector is Record<string, string> {
  return Object.values(selector).every((v) => typeof v === 'string');
}
