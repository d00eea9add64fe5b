import type { IncomingMessage } from 'node:http';
import { TokenRequestError } from '../auth/token-service.js';
import { RegistryError } from '../errors.js';
import { presented } from './authorize.js';
import type { Handler } from './context.js';
import { readBody } from './request.js';
import { sendJson } from './respond.js';

/** Forms are a few kilobytes: tokens and scopes. */
const FORM_LIMIT = 64 * 1024;

async function form(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams((await readBody(req, FORM_LIMIT)).toString('utf8'));
}

/** ACR answers refused token requests in its registry error format: 400 for a malformed request, 401 for credentials. */
function tokenError(err: unknown): unknown {
  if (!(err instanceof TokenRequestError)) return err;
  return err.kind === 'unauthorized' ? new RegistryError('UNAUTHORIZED', err.message) : new RegistryError('UNSUPPORTED', err.message, undefined, 400);
}

/** POST /oauth2/exchange: an identity-plane access token for a registry refresh token. */
export const exchange: Handler = async ({ req, res, registry, services }) => {
  const f = await form(req);
  const { refreshToken } = await services.tokens.exchange(registry, {
    grantType: f.get('grant_type') ?? undefined,
    service: f.get('service') ?? undefined,
    tenant: f.get('tenant') ?? undefined,
    accessToken: f.get('access_token') ?? undefined,
  }).catch((err: unknown) => { throw tokenError(err); });
  sendJson(res, 200, { refresh_token: refreshToken });
};

/**
 * GET /oauth2/token (credentials by Basic, or none for anonymous pull) and POST /oauth2/token (a form with
 * grant_type refresh_token or password). `scope` may be repeated and space-separated; other parameters that
 * clients add (client_id, access_type, account, api-version) are ignored.
 */
export const token: Handler = async ({ req, res, registry, query, services }) => {
  const params = req.method === 'POST' ? await form(req) : query;
  // A POST names its grant; a GET is Basic credentials or none (anonymous pull).
  if (req.method === 'POST' && !params.get('grant_type')) {
    throw new RegistryError('UNSUPPORTED', 'grant_type is required in a POST: use refresh_token or password (or GET with Basic credentials)', undefined, 400);
  }
  const basic = presented(req);
  const credentials = basic.kind === 'basic' && !params.has('username') && !params.has('password')
    ? { username: basic.username, password: basic.password }
    : { username: params.get('username') ?? undefined, password: params.get('password') ?? undefined };
  const issued = await services.tokens.token(registry, {
    grantType: req.method === 'POST' ? params.get('grant_type') ?? undefined : undefined,
    service: params.get('service') ?? undefined,
    scopes: params.getAll('scope'),
    refreshToken: params.get('refresh_token') || undefined,
    ...credentials,
    offline: params.get('offline_token') === 'true' || params.get('access_type') === 'offline',
  }).catch((err: unknown) => { throw tokenError(err); });
  sendJson(res, 200, {
    access_token: issued.accessToken,
    token: issued.accessToken,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt.toISOString(),
    ...(issued.refreshToken ? { refresh_token: issued.refreshToken } : {}),
  });
};
