import type { IncomingMessage } from 'node:http';
import { readJsonObjectBody, readRequestBody, RequestBodyNotJsonObject, RequestBodyStalled, RequestBodyTooLarge } from '../../server/request-body.js';
import { RegistryError } from '../errors.js';
import type { Page } from '../metadata.js';
import type { ByteRange } from '../storage/blob-store.js';
import type { ChunkInfo } from '../uploads.js';

/** Reads a whole request body up to `limit` bytes (manifests, forms), with the registry's errors. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readRequestBody(req, limit).catch((err: unknown) => { throw bodyError(err, limit); });
}

/** Reads a JSON object body up to `limit` bytes (the metadata API's PATCH), with the registry's errors. */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  return readJsonObjectBody(req, limit).catch((err: unknown) => { throw bodyError(err, limit); });
}

function bodyError(err: unknown, limit: number): unknown {
  if (err instanceof RequestBodyTooLarge) return new RegistryError('TOO_LARGE', `the body exceeds the limit of ${limit} bytes`, { limit });
  if (err instanceof RequestBodyStalled) return new RegistryError('SIZE_INVALID', err.message, undefined, 408);
  if (err instanceof RequestBodyNotJsonObject) return new RegistryError('UNSUPPORTED', err.message, undefined, 400);
  return err;
}

export function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new RegistryError('SIZE_INVALID', `invalid Content-Length ${JSON.stringify(v)}`);
  return n;
}

/** Whether the request carries a body: a positive Content-Length, or a chunked transfer. */
export function hasBody(req: IncomingMessage): boolean {
  const length = contentLength(req);
  return length !== undefined ? length > 0 : req.headers['transfer-encoding'] !== undefined;
}

/** `Content-Range: start-end` of an upload chunk (the spec's form; `bytes start-end/total` is accepted too). */
export function chunkInfo(req: IncomingMessage): ChunkInfo {
  const length = contentLength(req);
  const header = req.headers['content-range'];
  if (header === undefined) return length === undefined ? {} : { length };
  const m = /^(?:bytes )?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) throw new RegistryError('RANGE_INVALID', `invalid Content-Range ${JSON.stringify(header)}: expected start-end`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new RegistryError('RANGE_INVALID', `invalid Content-Range ${JSON.stringify(header)}: end is before start`);
  return { start, end, ...(length === undefined ? {} : { length }) };
}

/**
 * Parses an HTTP `Range: bytes=...` header against a blob's size: undefined to serve the whole blob
 * (no header, several ranges, which the registry answers whole, or a unit other than bytes, which
 * RFC 9110 says to ignore), a range to serve, or 416.
 */
export function byteRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined || !/^bytes=/i.test(header.trim())) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) {
    if (/^bytes=[\d\s,-]+$/i.test(header.trim())) return undefined;
    throw unsatisfiable(header, size);
  }
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable(header, size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) throw unsatisfiable(header, size);
  return { start, end };
}

function unsatisfiable(header: string, size: number): RegistryError {
  return new RegistryError('RANGE_INVALID', `range ${JSON.stringify(header)} is not satisfiable for a blob of ${size} bytes`, { size });
}

/** The most names a listing page holds: a client that asks for more, or for all, gets a `Link` to the rest. */
const MAX_PAGE = 10_000;

/** The `n` and `last` query parameters of the tag and catalog listings. */
export function page(query: URLSearchParams): Page & { n: number } {
  const n = query.get('n');
  const last = query.get('last');
  if (n !== null && !/^\d+$/.test(n)) throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, not ${JSON.stringify(n)}`);
  return { n: Math.min(n === null ? MAX_PAGE : Number(n), MAX_PAGE), ...(last !== null ? { last } : {}) };
}

/**
 * A listing page is one `n` of names after `last`, and one name more is read to know whether a `Link` to the next
 * page is due; `next` is the `last` of that page.
 */
export async function listPage(p: Page & { n: number }, list: (p: Page) => Promise<string[]>): Promise<{ items: string[]; next?: string }> {
  const found = p.n === 0 ? [] : await list({ ...p, n: p.n + 1 });
  return found.length > p.n ? { items: found.slice(0, p.n), next: found[p.n - 1]! } : { items: found };
}
