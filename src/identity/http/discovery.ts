import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorizationEndpoint, issuer, jwksUri, openIdConfigurationUrl, tokenEndpoint } from '../issuers.js';
import type { Authority, IdentityService } from '../types.js';
import { methodNotAccepted, OAuth2Error, sendOAuth2Error, sendOAuth2Json, unknownTenant } from './oauth2-errors.js';

/** Path segments that stand for "the caller's tenant"; discovery documents show `{tenantid}` in their issuer. */
const TENANT_ALIASES = new Set(['common', 'organizations']);
const CLAIMS = ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid', 'appid', 'azp', 'idtyp', 'ver'];

/** The tenant id for a path segment, `{tenantid}` for an alias; OAuth2Error for a tenant that does not exist. */
async function tenantOf(identity: IdentityService, segment: string): Promise<string> {
  if (TENANT_ALIASES.has(segment.toLowerCase())) return '{tenantid}';
  const tenant = await identity.tenant(segment);
  if (!tenant) throw unknownTenant(segment);
  return tenant.id;
}

function openIdConfiguration(publicUrl: string, authority: Authority, segment: string, tenantId: string): Record<string, unknown> {
  const base = authority === 'adfs' ? `${publicUrl}/adfs` : `${publicUrl}/${segment}`;
  const oauth2 = authority === 'v2' ? `${base}/oauth2/v2.0` : `${base}/oauth2`;
  const iss = issuer(publicUrl, authority, tenantId);
  return {
    issuer: iss,
    ...(authority === 'adfs' ? { access_token_issuer: iss } : {}),
    authorization_endpoint: authorizationEndpoint(publicUrl, authority, segment),
    token_endpoint: tokenEndpoint(publicUrl, authority, segment),
    device_authorization_endpoint: `${oauth2}/devicecode`,
    end_session_endpoint: `${oauth2}/logout`,
    jwks_uri: jwksUri(publicUrl, authority, segment),
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    grant_types_supported: ['client_credentials'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: CLAIMS,
    request_uri_parameter_supported: false,
    ...(authority === 'adfs' ? {} : { tenant_region_scope: 'WW', cloud_instance_name: new URL(publicUrl).hostname }),
  };
}

function requireGet(req: IncomingMessage): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAccepted(req, 'GET');
}

async function answer(req: IncomingMessage, res: ServerResponse, produce: () => Promise<unknown>): Promise<void> {
  try {
    requireGet(req);
    // An hour, not Entra ID's day: a rotated key signs at once here, and clients that cache the JWKS must see it soon.
    sendOAuth2Json(req, res, 200, await produce(), { 'Cache-Control': 'max-age=3600, private' });
  } catch (err) {
    if (err instanceof OAuth2Error) sendOAuth2Error(req, res, err);
    else throw err;
  }
}

/** `/{tenant}/v2.0/.well-known/openid-configuration`, `/{tenant}/.well-known/openid-configuration`, `/adfs/.well-known/openid-configuration`. */
export function handleOpenIdConfiguration(req: IncomingMessage, res: ServerResponse, identity: IdentityService, publicUrl: string, authority: Authority, segment: string): Promise<void> {
  return answer(req, res, async () => {
    const tenantId = authority === 'adfs' ? identity.defaultTenantId : await tenantOf(identity, segment);
    return openIdConfiguration(publicUrl, authority, segment, tenantId);
  });
}

/** The JWKS each discovery document names as its `jwks_uri`. */
export function handleKeys(req: IncomingMessage, res: ServerResponse, identity: IdentityService, authority: Authority, segment: string): Promise<void> {
  return answer(req, res, async () => {
    if (authority !== 'adfs') await tenantOf(identity, segment);
    return { keys: await identity.signingKeys() };
  });
}

/**
 * `/common/discovery/instance`: MSAL's instance discovery for an authority host it does not know. The answer
 * points MSAL at this server's tenant discovery document and names the host as its own alias.
 */
export function handleInstanceDiscovery(req: IncomingMessage, res: ServerResponse, publicUrl: string): Promise<void> {
  return answer(req, res, async () => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    let endpoint: URL;
    try {
      endpoint = new URL(query.get('authorization_endpoint') ?? '');
    } catch {
      throw new OAuth2Error('invalid_instance', 50049, 'Unknown or invalid instance.');
    }
    const tenant = endpoint.pathname.split('/')[1];
    if (!tenant) throw new OAuth2Error('invalid_instance', 50049, 'Unknown or invalid instance.');
    const hosts = [...new Set([endpoint.host, new URL(publicUrl).host])];
    return {
      tenant_discovery_endpoint: openIdConfigurationUrl(publicUrl, 'v2', tenant),
      'api-version': '1.1',
      metadata: [{ preferred_network: hosts[0], preferred_cache: hosts[0], aliases: hosts }],
    };
  });
}
