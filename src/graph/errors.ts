import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DirectoryError } from '../identity/types.js';

/** Microsoft Graph's errors: `{"error":{"code","message","innerError"}}`; `az` reads `error.message`. */
export class GraphError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function requestHeaders(req: IncomingMessage, requestId: string): Record<string, string> {
  const clientRequestId = req.headers['client-request-id'];
  return { 'request-id': requestId, 'client-request-id': typeof clientRequestId === 'string' ? clientRequestId : requestId };
}

export function sendGraphJson(req: IncomingMessage, res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': CONTENT_TYPE, ...requestHeaders(req, randomUUID()), ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendGraphNoContent(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(204, requestHeaders(req, randomUUID()));
  res.end();
}

export function sendGraphError(req: IncomingMessage, res: ServerResponse, err: GraphError, headers: Record<string, string> = {}): void {
  const requestId = randomUUID();
  const ids = requestHeaders(req, requestId);
  const body = JSON.stringify({
    error: {
      code: err.code,
      message: err.message,
      innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ''), 'request-id': requestId, 'client-request-id': ids['client-request-id'] },
    },
  });
  res.writeHead(err.status, { 'Content-Type': CONTENT_TYPE, ...ids, ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function graphErrorOf(err: DirectoryError): GraphError {
  switch (err.code) {
    case 'NotFound': return new GraphError(404, 'Request_ResourceNotFound', err.message);
    case 'InvalidInput': return new GraphError(400, 'Request_BadRequest', err.message);
    case 'Conflict': return new GraphError(409, 'Request_MultipleObjectsWithSameKeyValue', err.message);
  }
}

export function resourceNotFound(id: string): GraphError {
  return new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
}

export function badRequest(message: string): GraphError {
  return new GraphError(400, 'Request_BadRequest', message);
}
