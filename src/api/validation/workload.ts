import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import type { FieldError } from '../status.js';
import { invalid, required, validateNonnegative } from './errors.js';
import { isEmptySelector, validateLabelSelector } from './label-selector.js';
import { child } from './path.js';
import { validateControllerPodTemplate } from './pod-template.js';

export interface SelectedTemplateSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelector;
  template?: PodTemplateSpec;
}

/**
 * The part ValidateDeploymentSpec and ValidateReplicaSetSpec share: replicas,
 * a non-empty valid selector, and a template that selector selects. A
 * selector that does not even parse leaves the template unchecked, as upstream.
 */
export function validateSelectedTemplate(spec: SelectedTemplateSpec, field: string, kindForEmptySelector: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateNonnegative(spec.replicas, child(field, 'replicas')));
  const selectorPath = child(field, 'selector');
  let selectorErrors: FieldError[] = [];
  if (!spec.selector) {
    errs.push(required(selectorPath));
  } else {
    selectorErrors = validateLabelSelector(spec.selector, selectorPath);
    errs.push(...selectorErrors);
    if (isEmptySelector(spec.selector)) errs.push(invalid(selectorPath, spec.selector, `empty selector is invalid for ${kindForEmptySelector}`));
  }
  if (selectorErrors.length) errs.push(invalid(selectorPath, spec.selector, 'invalid label selector'));
  else errs.push(...validateControllerPodTemplate(spec.template, spec.selector, child(field, 'template'), 'ReplicaSet'));
  return errs;
}
