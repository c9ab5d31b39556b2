import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { StatusError, badRequest, tooLarge, unsupportedMediaType } from '../api/status.js';
import { decodeProtobufObject, isProtobufContentType } from './protobuf/index.js';

/** Upstream's request body limit (3 MiB) — etcd's value limit sets it. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export const mediaType = (header: string | undefined): string => (header ?? '').split(';')[0].trim().toLowerCase();

/** Decodes a request body as JSON or YAML per its Content-Type, as upstream's serializers do. */
export function decodeBody(body: Buffer, contentType: string | undefined): unknown {
  const type = mediaType(contentType) || 'application/json';
  if (isProtobufContentType(type)) return decodeProtobufObject(body);
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('Object \'Kind\' is missing in \'\'');
  if (type === 'application/json' || type === '*/*') {
    try { return JSON.parse(text); } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
  }
  if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') {
    try { return parseYaml(text, { uniqueKeys: true }) as unknown; } catch (err) {
      throw badRequest(`error converting YAML to JSON: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw unsupportedMediaType(type);
}

export function writeJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

export function writeStatusError(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) { res.destroy(); return; }
  // As upstream's ErrorNegotiated: clients (client-go) wait this long before trying again.
  const retryAfter = err.details?.retryAfterSeconds;
  if (retryAfter !== undefined && retryAfter > 0) res.setHeader('Retry-After', String(retryAfter));
  writeJson(res, err.code, err.toStatus());
}

/** What the client asked to get back, from the Accept header. */
export interface Negotiated {
  table: boolean;
  /** `PartialObjectMetadata(List)` instead of the object (kubectl's metadata-only clients). */
  partialMetadata: boolean;
}

export function negotiate(accept: string | undefined): Negotiated {
  const offers = (accept ?? '').split(',').map((o) => o.trim());
  for (const offer of offers) {
    const [type, ...params] = offer.split(';').map((p) => p.trim());
    const p = Object.fromEntries(params.map((kv) => kv.split('=').map((s) => s.trim())));
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*') continue;
    if (!p.as) return { table: false, partialMetadata: false };
    if (p.as === 'Table' && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1')) return { table: true, partialMetadata: false };
    if ((p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') && p.g === 'meta.k8s.io') return { table: false, partialMetadata: true };
  }
  return { table: false, partialMetadata: false };
}
