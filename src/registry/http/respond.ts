import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RegistryError } from '../errors.js';

/** Headers every registry response carries. */
export const API_VERSION_HEADER = { 'Docker-Distribution-Api-Version': 'registry/2.0' } as const;

/** The one place OCI error JSON is made: `{"errors":[{"code","message","detail"}]}`. */
function errorBody(err: RegistryError): string {
  return JSON.stringify({ errors: [{ code: err.wireCode, message: err.message, ...(err.detail !== undefined ? { detail: err.detail } : {}) }] });
}

export function sendRegistryError(req: IncomingMessage, res: ServerResponse, err: RegistryError, headers: Record<string, string> = {}): void {
  const body = errorBody(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(err.status, {
    ...API_VERSION_HEADER,
    ...headers,
    // A request refused before its body was read (a 413, a chunk out of order) leaves bytes on the connection
    // that the next request would be parsed from: such a connection is not kept alive.
    ...(req.complete ? {} : { Connection: 'close' }),
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...API_VERSION_HEADER,
    'Content-Type': 'application/json; charset=utf-8',
    ...headers,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { ...API_VERSION_HEADER, 'Content-Length': 0, ...headers });
  res.end();
}

/** For a request Node's HTTP parser refused: there is no response to write to, only the socket, which then closes. */
export function writeRegistryErrorToSocket(socket: Duplex, err: RegistryError): void {
  const body = errorBody(err);
  socket.end([
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}`, 'Docker-Distribution-Api-Version: registry/2.0', 'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', body,
  ].join('\r\n'));
}
