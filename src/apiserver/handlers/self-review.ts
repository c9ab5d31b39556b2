/**
 * The "who am I / may I" reviews that kubectl asks about the caller itself:
 * authentication.k8s.io SelfSubjectReview (`kubectl auth whoami`) and
 * authorization.k8s.io SelfSubjectAccessReview / SelfSubjectRulesReview
 * (`kubectl auth can-i [--list]`). They are create-only and stored nowhere.
 *
 * bosun has no authorization layer yet: every authenticated user but a
 * bootstrap token (refused before it gets here) may do everything, as
 * upstream's AlwaysAllow mode answers. The reviews say exactly that, so a
 * script checking its rights gets the truth rather than a 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SelfSubjectReview } from 'kubernetes-types/authentication/v1';
import type { ResourceRule, SelfSubjectAccessReview, SelfSubjectRulesReview } from 'kubernetes-types/authorization/v1';
import { badRequest, fieldErrors, invalid, methodNotAllowed, pathNotFound } from '../../api/status.js';
import { decodeBody, readBody, writeJson } from '../http.js';
import type { RequestInfo } from '../request-info.js';
import type { ResourceDefinition } from '../resources.js';
import type { UserInfo } from '../authn.js';

export const AUTHENTICATION_GROUP = 'authentication.k8s.io';
export const AUTHORIZATION_GROUP = 'authorization.k8s.io';

export const SELF_REVIEW_RESOURCES: ResourceDefinition[] = [
  { group: AUTHENTICATION_GROUP, version: 'v1', resource: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] },
  { group: AUTHORIZATION_GROUP, version: 'v1', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] },
  { group: AUTHORIZATION_GROUP, version: 'v1', resource: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'] },
];

export const servesSelfReview = (info: RequestInfo): boolean =>
  info.group === AUTHENTICATION_GROUP || info.group === AUTHORIZATION_GROUP;

/** Reads the posted review, checking it is the kind the path names. */
async function readReview<T>(req: IncomingMessage, def: ResourceDefinition): Promise<T & { metadata?: { name?: string } }> {
  const body = decodeBody(await readBody(req), req.headers['content-type']);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the request body must be an object');
  const { kind, apiVersion } = body as { kind?: unknown; apiVersion?: unknown };
  const want = `${def.group}/${def.version}`;
  if ((kind !== undefined && kind !== def.kind) || (apiVersion !== undefined && apiVersion !== want)) {
    throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${want})`);
  }
  return body as T & { metadata?: { name?: string } };
}

/** The posted review with its answer, as upstream returns it: never stored, so no creation time. */
const created = (res: ServerResponse, def: ResourceDefinition, review: { metadata?: object }, status: object) =>
  writeJson(res, 201, { ...review, kind: def.kind, apiVersion: `${def.group}/${def.version}`, metadata: { ...review.metadata, creationTimestamp: null }, status });

/** Answers POST /apis/authentication.k8s.io/v1/selfsubjectreviews and the two authorization reviews; throws StatusError otherwise. */
export async function serveSelfReview(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo): Promise<void> {
  const def = SELF_REVIEW_RESOURCES.find((d) => d.group === info.group && d.version === info.version && d.resource === info.resource);
  if (!def || info.namespace || info.name || info.subresource) throw pathNotFound();
  if (info.verb !== 'create') throw methodNotAllowed();

  if (def.kind === 'SelfSubjectReview') {
    const review = await readReview<SelfSubjectReview>(req, def);
    const status: SelfSubjectReview['status'] = { userInfo: { username: user.name, groups: user.groups } };
    return created(res, def, review, status);
  }

  if (def.kind === 'SelfSubjectAccessReview') {
    const review = await readReview<SelfSubjectAccessReview>(req, def);
    const spec = review.spec as SelfSubjectAccessReview['spec'] | undefined;
    // Upstream's ValidateSelfSubjectAccessReviewSpec, word for word.
    if (spec?.resourceAttributes && spec.nonResourceAttributes) {
      throw invalid(def.kind, def.group, '', [fieldErrors.invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes')]);
    }
    if (!spec?.resourceAttributes && !spec?.nonResourceAttributes) {
      throw invalid(def.kind, def.group, '', [fieldErrors.invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified')]);
    }
    return created(res, def, review, { allowed: true });
  }

  const review = await readReview<SelfSubjectRulesReview>(req, def);
  // kubernetes-types' ResourceRule lost `resources` and `verbs` (a "*/" in their doc comments ends the comment early).
  const status: Omit<NonNullable<SelfSubjectRulesReview['status']>, 'resourceRules'> & { resourceRules: Array<ResourceRule & { resources: string[]; verbs: string[] }> } = {
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  };
  return created(res, def, review, status);
}
