import type { Event } from 'kubernetes-types/core/v1';
import type { FieldError } from '../../api/status.js';
import { invalid, invalidEach, required } from '../../api/validation/errors.js';
import { isDNS1123Subdomain, isQualifiedName } from '../../api/validation/names.js';
import type { Strategy } from '../strategy.js';
import { type Obj } from './common.js';

type EventObj = Obj<Event>;

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

/**
 * legacyValidateEvent, all that core/v1 applies (the strict checks are for
 * events.k8s.io/v1). Old-style events (no eventTime) only need their
 * namespace to match the involved object's; new-style ones name their
 * reporter and action.
 */
function validateEvent(event: EventObj): FieldError[] {
  const errs: FieldError[] = [];
  const ns = event.metadata?.namespace ?? '';
  const involvedNs = event.involvedObject?.namespace ?? '';
  if (!event.eventTime) {
    const mismatch = involvedNs ? ns !== involvedNs : ns !== '' && ns !== 'default';
    if (mismatch) errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    const controller = event.reportingComponent ?? '';
    if (!controller) errs.push(required('reportingController'));
    errs.push(...invalidEach('reportingController', controller, isQualifiedName(controller)));
    const instance = event.reportingInstance ?? '';
    if (!instance) errs.push(required('reportingInstance'));
    if (instance.length > REPORTING_INSTANCE_LIMIT) errs.push(invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
    if (!event.action) errs.push(required('action'));
    if ((event.action ?? '').length > ACTION_LIMIT) errs.push(invalid('action', '', `can have at most ${ACTION_LIMIT} characters`));
    if (!event.reason) errs.push(required('reason'));
    if ((event.reason ?? '').length > REASON_LIMIT) errs.push(invalid('reason', '', `can have at most ${REASON_LIMIT} characters`));
    if ((event.message ?? '').length > NOTE_LIMIT) errs.push(invalid('message', '', `can have at most ${NOTE_LIMIT} characters`));
  }
  errs.push(...invalidEach('namespace', ns, isDNS1123Subdomain(ns)));
  return errs;
}

/** pkg/registry/core/event/strategy.go. */
export const eventStrategy: Strategy<EventObj> = {
  validate: validateEvent,
  selectableFields(event) {
    const o = event.involvedObject ?? {};
    return {
      'involvedObject.kind': o.kind ?? '',
      'involvedObject.namespace': o.namespace ?? '',
      'involvedObject.name': o.name ?? '',
      'involvedObject.uid': o.uid ?? '',
      'involvedObject.apiVersion': o.apiVersion ?? '',
      'involvedObject.resourceVersion': o.resourceVersion ?? '',
      'involvedObject.fieldPath': o.fieldPath ?? '',
      reason: event.reason ?? '',
      reportingComponent: event.reportingComponent ?? '',
      source: event.source?.component || event.reportingComponent || '',
      type: event.type ?? '',
    };
  },
};
