import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IdentityError } from '../types.js';
import { GUID } from '../../guid.js';

/**
 * An OAuth2 error as Entra ID writes it: the RFC 6749 `error`, and in `error_description` an AADSTS code and
 * message, which is what `az` and MSAL show to the user.
 */
export class OAuth2Error extends Error {
  constructor(readonly error: string, readonly code: number, message: string, readonly status = 400) {
    super(message);
  }
}


/** The correlation id Entra ID echoes: the client's `client-request-id` when it sent one. */
export function correlationId(req: IncomingMessage): string {
  const sent = req.headers['client-request-id'];
  return typeof sent === 'string' && GUID.test(sent) ? sent : randomUUID();
}

export function sendOAuth2Json(req: IncomingMessage, res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store, no-cache',
    Pragma: 'no-cache',
    'client-request-id': correlationId(req),
    ...headers,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function sendOAuth2Error(req: IncomingMessage, res: ServerResponse, err: OAuth2Error): void {
  const traceId = randomUUID();
  const correlation = correlationId(req);
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  sendOAuth2Json(req, res, err.status, {
    error: err.error,
    error_description: `AADSTS${err.code}: ${err.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${timestamp}`,
    error_codes: [err.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlation,
  }, { 'client-request-id': correlation });
}

/** The token endpoint's answer to a credential or request the identity service refused. */
export function oauth2ErrorOf(err: IdentityError): OAuth2Error {
  switch (err.reason) {
    case 'unknown_client': return new OAuth2Error('unauthorized_client', 700016, err.message);
    case 'invalid_secret': return new OAuth2Error('invalid_client', 7000215, err.message, 401);
    case 'expired_secret': return new OAuth2Error('invalid_client', 7000222, err.message, 401);
    case 'disabled_principal': return new OAuth2Error('unauthorized_client', 7000112, err.message);
    case 'unknown_principal': return new OAuth2Error('unauthorized_client', 7000229, err.message);
    case 'unknown_tenant': return new OAuth2Error('invalid_request', 90002, err.message);
    case 'unknown_resource': return new OAuth2Error('invalid_resource', 500011, err.message);
    case 'invalid_token':
    case 'expired_token':
    case 'wrong_audience':
      return new OAuth2Error('invalid_grant', 50013, err.message);
  }
}

export function missingParameter(name: string): OAuth2Error {
  return new OAuth2Error('invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
}

export function unknownTenant(tenant: string): OAuth2Error {
  return new OAuth2Error('invalid_tenant', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
}

export function methodNotAccepted(req: IncomingMessage, accepted: string): OAuth2Error {
  return new OAuth2Error('invalid_request', 900561, `The endpoint only accepts ${accepted} requests. Received a ${req.method ?? 'unknown'} request.`);
}
