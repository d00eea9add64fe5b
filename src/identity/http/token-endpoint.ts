import type { IncomingMessage, ServerResponse } from 'node:http';
import { readRequestBody, RequestBodyStalled, RequestBodyTooLarge } from '../../server/request-body.js';
import { IdentityError, type Authority, type IdentityService } from '../types.js';
import { methodNotAccepted, missingParameter, OAuth2Error, oauth2ErrorOf, sendOAuth2Error, sendOAuth2Json } from './oauth2-errors.js';

const FORM_LIMIT = 64 * 1024;
/** Tenant path segments that name no tenant: the client's own tenant is used. */
const TENANT_ALIASES = new Set(['common', 'organizations']);
/** OpenID scopes some clients add to every request; they say nothing about the resource. */
const OPENID_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const DEFAULT_SUFFIX = '/.default';

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  // Entra ID reads only form bodies; anything else is a request without its parameters.
  if (type !== 'application/x-www-form-urlencoded') return new URLSearchParams();
  let form: URLSearchParams;
  try {
    form = new URLSearchParams((await readRequestBody(req, FORM_LIMIT)).toString('utf8'));
  } catch (err) {
    if (err instanceof RequestBodyTooLarge) throw new OAuth2Error('invalid_request', 90015, 'The request body is too large.');
    if (err instanceof RequestBodyStalled) throw new OAuth2Error('invalid_request', 9002313, `Invalid request. Request is malformed or invalid: ${err.message}.`);
    throw err;
  }
  // With a parameter twice, which one counts would be a guess (a second client_secret, a second grant_type).
  const seen = new Set<string>();
  for (const key of form.keys()) {
    if (seen.has(key)) throw new OAuth2Error('invalid_request', 9000411, `The request is not properly formatted. The parameter '${key}' is duplicated.`);
    seen.add(key);
  }
  return form;
}

/** RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined for Basic. */
function basicCredentials(req: IncomingMessage): { clientId: string; clientSecret: string } | undefined {
  const header = req.headers.authorization;
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuth2Error('invalid_client', 7000218, 'The Basic credentials must be client_id:client_secret.', 401);
  const formDecode = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
}

/**
 * The v2 `scope` of a client-credentials request: exactly one `<resource>/.default`. Only the final `/.default` is
 * removed, so `https://management.core.windows.net//.default` asks for `https://management.core.windows.net/`.
 */
function resourceOfScope(scope: string): string {
  const scopes = scope.split(' ').filter((s) => s !== '' && !OPENID_SCOPES.has(s));
  if (scopes.length !== 1) {
    throw new OAuth2Error('invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope '${scope}' must name exactly one resource with /.default.`);
  }
  const only = scopes[0]!;
  if (!only.endsWith(DEFAULT_SUFFIX) || only.length === DEFAULT_SUFFIX.length) {
    throw new OAuth2Error('invalid_scope', 1002012, `The provided value for scope ${only} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  return only.slice(0, -DEFAULT_SUFFIX.length);
}

/** v2 takes `scope`, v1 `resource`; ADFS takes either (MSAL sends `scope` to ADFS 2019). */
function requestedResource(form: URLSearchParams, authority: Authority): string {
  const scope = form.get('scope');
  const resource = form.get('resource');
  if (authority === 'v2' || (authority === 'adfs' && scope !== null)) {
    if (authority === 'v2' && resource !== null) throw new OAuth2Error('invalid_request', 901002, "The 'resource' request parameter is not supported: the v2.0 endpoint takes scope=<resource>/.default.");
    if (scope === null) throw missingParameter('scope');
    return resourceOfScope(scope);
  }
  if (resource === null || resource === '') throw missingParameter('resource');
  return resource;
}

/**
 * `POST /{tenant}/oauth2/v2.0/token`, `/{tenant}/oauth2/token` and `/adfs/oauth2/token`: the client-credentials
 * grant, with the secret in the body or by HTTP Basic. Secrets are never logged; nor is the body.
 */
export async function handleTokenRequest(req: IncomingMessage, res: ServerResponse, identity: IdentityService, authority: Authority, tenantSegment: string | undefined): Promise<void> {
  try {
    if (req.method === 'OPTIONS') {
      // The methods the endpoint takes, as its own error for any other names them; no CORS is offered here.
      res.writeHead(204, { Allow: 'POST, OPTIONS' }).end();
      return;
    }
    if (req.method !== 'POST') throw methodNotAccepted(req, 'POST, OPTIONS');
    const form = await readForm(req);
    const grantType = form.get('grant_type');
    if (grantType === null) throw missingParameter('grant_type');
    if (grantType !== 'client_credentials') throw new OAuth2Error('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    const basic = basicCredentials(req);
    const clientId = basic?.clientId ?? form.get('client_id');
    if (!clientId) throw missingParameter('client_id');
    if (basic && form.get('client_id') !== null && form.get('client_id') !== basic.clientId) {
      throw new OAuth2Error('invalid_request', 900144, 'The client_id in the body differs from the one in the Authorization header.');
    }
    const clientSecret = basic?.clientSecret ?? form.get('client_secret');
    if (!clientSecret && form.has('client_assertion')) {
      throw new OAuth2Error('invalid_client', 7000218, 'Certificate and federated credentials (client_assertion) are not supported here: authenticate with client_secret.', 401);
    }
    if (!clientSecret) {
      throw new OAuth2Error('invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", 401);
    }
    const resource = requestedResource(form, authority);
    const tenant = tenantSegment === undefined || TENANT_ALIASES.has(tenantSegment.toLowerCase()) ? undefined : tenantSegment;
    const token = await identity.clientCredentialsToken({ tenant, clientId, clientSecret, resource, authority });
    const lifetime = { token_type: 'Bearer', expires_in: token.expiresIn, ext_expires_in: token.expiresIn };
    sendOAuth2Json(req, res, 200, authority === 'v2'
      ? { ...lifetime, access_token: token.accessToken }
      : {
          ...lifetime,
          expires_on: Math.floor(token.expiresOn.getTime() / 1000),
          not_before: Math.floor(token.notBefore.getTime() / 1000),
          resource: token.audience,
          access_token: token.accessToken,
        });
  } catch (err) {
    if (err instanceof OAuth2Error) sendOAuth2Error(req, res, err);
    else if (err instanceof IdentityError) sendOAuth2Error(req, res, oauth2ErrorOf(err));
    else throw err;
  }
}
