import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { requiredAccess, type RouteTarget } from '../auth/required-access.js';
import { formatScope, type ResourceActions } from '../auth/scopes.js';
import type { Presented } from '../auth/token-service.js';
import { RegistryError } from '../errors.js';
import type { RegistryRecord } from '../metadata.js';
import { checkRepositoryName } from '../names.js';
import type { RegistryRequest } from './context.js';
import { sendRegistryError } from './respond.js';

/**
 * The gate every registry API request passes before its handler: authentication and authorization by the
 * token service, then ACR's changeable attributes. A refusal is answered here: 401 with the challenge that
 * tells the client where to get a token and for which scope, and the OCI error naming what was missing.
 * Returns whether the request may go on.
 */
export async function authorize(r: RegistryRequest, target: RouteTarget): Promise<boolean> {
  const { req, res, registry, name, query, services } = r;
  const method = req.method ?? 'GET';
  const from = target === 'upload' && query.get('mount') !== null ? query.get('from') : null;
  const mountFrom = from === null ? undefined : checkRepositoryName(from);
  const required = requiredAccess(target, method, name, mountFrom);
  const decision = await services.tokens.authorize(registry, presented(req), required);
  if (!decision.allowed) {
    const detail = required.flatMap((s) => s.actions.map((action) => ({ Type: s.type, Name: s.name, Action: action })));
    sendRegistryError(req, res, new RegistryError('UNAUTHORIZED', `authentication required: ${decision.reason}`, detail.length ? detail : undefined),
      { 'WWW-Authenticate': challenge(req, registry, required) });
    return false;
  }
  await services.guard.check(registry, { target, method, repository: name, ...(target === 'manifest' ? { reference: r.param } : {}), ...(mountFrom ? { mountFrom } : {}) });
  return true;
}

/**
 * `Bearer realm="<scheme>://<login server>/oauth2/token",service="<login server>",scope="..."`, with no space
 * after the commas (az splits the header on them) and no scope on `/v2/` itself, as ACR sends it.
 */
export function challenge(req: IncomingMessage, registry: RegistryRecord, required: readonly ResourceActions[]): string {
  const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const scope = required.length ? `,scope="${required.map(formatScope).join(' ')}"` : '';
  return `Bearer realm="${scheme}://${registry.loginServer}/oauth2/token",service="${registry.loginServer}"${scope}`;
}

/** The credentials of the Authorization header: a registry access token, or a username and password. */
export function presented(req: IncomingMessage): Presented {
  const header = req.headers.authorization;
  if (!header) return { kind: 'none' };
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space < 0 ? header.length : space).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer') return { kind: 'bearer', token: value };
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? { kind: 'basic', username: decoded, password: '' } : { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { kind: 'none' };
}
