import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ArmError } from '../errors.js';

/** Headers ARM puts on every response; az prints the request ids when something fails. */
function armHeaders(req: IncomingMessage): Record<string, string> {
  const correlation = req.headers['x-ms-correlation-request-id'];
  const clientRequest = req.headers['x-ms-client-request-id'];
  return {
    'x-ms-request-id': randomUUID(),
    'x-ms-correlation-request-id': typeof correlation === 'string' ? correlation : randomUUID(),
    ...(typeof clientRequest === 'string' ? { 'x-ms-client-request-id': clientRequest } : {}),
    'Cache-Control': 'no-cache',
  };
}

export function sendArmJson(req: IncomingMessage, res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = value === undefined ? '' : JSON.stringify(value);
  res.writeHead(status, {
    ...armHeaders(req),
    ...headers,
    ...(body ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The one place an ARM error is written: `{"error":{"code","message"[,"details"]}}`. */
export function sendArmError(req: IncomingMessage, res: ServerResponse, err: ArmError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const error = { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
  sendArmJson(req, res, err.status, { error }, err.headers);
}
