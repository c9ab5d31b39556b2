import { StringDecoder } from 'node:string_decoder';
import type { IncomingMessage } from 'node:http';
import type { Status } from 'kubernetes-types/meta/v1';
import { ApiError, WatchExpiredError, statusFrom } from './errors.js';
import type { KubeObject } from './resources.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/**
 * One change. A BOOKMARK's object carries only `metadata.resourceVersion`
 * (and annotations): a point to resume from, not an object.
 */
export interface WatchEvent<T extends KubeObject> {
  type: WatchEventType;
  object: T;
}

const TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Decodes one line of a watch stream; an ERROR event throws (`WatchExpiredError` for 410). */
export function decodeWatchLine<T extends KubeObject>(line: string, request?: string): WatchEvent<T> | undefined {
  let raw: unknown;
  try { raw = JSON.parse(line); } catch {
    throw new Error(`watch ${request ?? ''}: undecodable event: ${line.slice(0, 200)}`);
  }
  if (!isRecord(raw) || typeof raw.type !== 'string' || !isRecord(raw.object)) {
    throw new Error(`watch ${request ?? ''}: malformed event: ${line.slice(0, 200)}`);
  }
  if (raw.type === 'ERROR') {
    const status: Status = statusFrom(raw.object, 500);
    throw status.code === 410 ? new WatchExpiredError(status, request) : new ApiError(status, request);
  }
  // Types from a newer server are skipped rather than mistaken for changes.
  if (!TYPES.has(raw.type)) return undefined;
  return { type: raw.type as WatchEventType, object: raw.object as T };
}

/**
 * The events of a watch response, one per newline-delimited JSON line. Ends
 * when the server ends the stream (e.g. `timeoutSeconds`) or, quietly, when
 * `signal` aborts; breaking out of the loop closes the connection.
 */
export async function* watchEvents<T extends KubeObject>(res: IncomingMessage, signal?: AbortSignal, request?: string): AsyncGenerator<WatchEvent<T>, void, undefined> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      pending += decoder.write(chunk);
      let start = 0;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
        const line = pending.slice(start, nl).trim();
        start = nl + 1;
        if (!line) continue;
        const event = decodeWatchLine<T>(line, request);
        if (event) yield event;
      }
      pending = pending.slice(start);
    }
    const rest = (pending + decoder.end()).trim();
    if (rest) {
      const event = decodeWatchLine<T>(rest, request);
      if (event) yield event;
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  } finally {
    res.destroy();
  }
}
