import { AUDIENCES } from '../../identity/types.js';
import { HttpClient, parseChallenge, type HttpResponse } from '../http-client.js';
import { InvalidImageNameError, parseImageReference } from '../image-reference.js';
import type { NodeConfig } from './node-identity.js';
import { CredentialProviderError, goDuration, type CredentialProviderRequest, type CredentialProviderResponse } from './protocol.js';

/** The username that tells ACR (and Anchorage) the password is a registry refresh token. */
export const REFRESH_TOKEN_USERNAME = '00000000-0000-0000-0000-000000000000';
/** Used only if a refresh token carries no `exp`: ACR's own provider caches for five minutes. */
const FALLBACK_CACHE_SECONDS = 300;
/**
 * The kubelet kills an exec plugin after a minute and logs only "context deadline exceeded": every request of one
 * run shares this much less, so that a slow or silent endpoint ends in an error that names it.
 */
const DEADLINE_MS = 50_000;

/**
 * Answers one request: for an image of a registry the node is configured for, an identity-plane token for the
 * node's identity, exchanged at that registry's /oauth2/exchange for a registry refresh token, handed back as
 * username 00000000-0000-0000-0000-000000000000 and the refresh token, cached per registry for half of the
 * refresh token's remaining life. For any other image, an answer with no credentials that is not cached.
 */
export async function provideCredentials(request: CredentialProviderRequest, config: NodeConfig, now: () => number = Date.now): Promise<CredentialProviderResponse> {
  const base = { apiVersion: request.apiVersion, kind: 'CredentialProviderResponse' as const, cacheKeyType: 'Registry' as const };
  let registry: string;
  try {
    registry = parseImageReference(request.image).registry.toLowerCase();
  } catch (err) {
    if (err instanceof InvalidImageNameError) return { ...base, cacheDuration: '0s' };
    throw err;
  }
  if (!config.registries.includes(registry)) return { ...base, cacheDuration: '0s' };

  const http = new HttpClient(config.ca, Date.now() + DEADLINE_MS);
  try {
    const aadToken = await identityToken(http, config);
    const refreshToken = await exchange(http, config, registry, aadToken);
    const exp = expiryOf(refreshToken);
    const cacheSeconds = exp === undefined ? FALLBACK_CACHE_SECONDS : Math.floor((exp - now() / 1000) / 2);
    return { ...base, cacheDuration: goDuration(cacheSeconds), auth: { [registry]: { username: REFRESH_TOKEN_USERNAME, password: refreshToken } } };
  } finally {
    http.close();
  }
}

/** An access token for ACR's audience: client credentials for a service principal, the IMDS protocol for a managed identity. */
async function identityToken(http: HttpClient, config: NodeConfig): Promise<string> {
  const { identity } = config;
  const resource = AUDIENCES.acr[0];
  let url: string;
  let res: HttpResponse;
  if (identity.kind === 'servicePrincipal') {
    url = `${config.authorityHost}/${encodeURIComponent(identity.tenantId)}/oauth2/v2.0/token`;
    res = await call(http, url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: identity.clientId, client_secret: identity.clientSecret, scope: `${resource}/.default` }).toString(),
    });
  } else {
    url = `${identity.endpoint}?${new URLSearchParams({ 'api-version': '2018-02-01', resource, client_id: identity.clientId })}`;
    res = await call(http, url, { headers: { Metadata: 'true' } });
  }
  const body = json(res);
  if (res.status !== 200 || typeof body?.['access_token'] !== 'string') {
    const why = typeof body?.['error'] === 'string' ? `${body['error']}: ${String(body['error_description'] ?? '').split(/\r?\n/, 1)[0]}` : `HTTP ${res.status}`;
    throw new CredentialProviderError(`the identity plane refused a token for ${identity.clientId} at ${url.split('?', 1)[0]}: ${why}`);
  }
  return body['access_token'];
}

/** The registry's challenge names its token realm; /oauth2/exchange sits beside it, as ACR's own provider finds it. */
async function exchange(http: HttpClient, config: NodeConfig, registry: string, aadToken: string): Promise<string> {
  const scheme = new URL(config.authorityHost).protocol;
  const ping = await call(http, `${scheme}//${registry}/v2/`, {});
  const challenge = parseChallenge(ping.headers['www-authenticate']);
  if (ping.status !== 401 || challenge?.scheme !== 'bearer' || !challenge.params['realm']) {
    throw new CredentialProviderError(`registry ${registry} did not answer GET /v2/ with a Bearer challenge (HTTP ${ping.status})`);
  }
  const url = new URL('/oauth2/exchange', challenge.params['realm']).toString();
  const tenant: Record<string, string> = config.identity.kind === 'servicePrincipal' ? { tenant: config.identity.tenantId } : {};
  const res = await call(http, url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'access_token', service: challenge.params['service'] ?? registry, access_token: aadToken, ...tenant }).toString(),
  });
  const body = json(res);
  if (res.status !== 200 || typeof body?.['refresh_token'] !== 'string') {
    throw new CredentialProviderError(`registry ${registry} refused the token exchange at ${url}: HTTP ${res.status}${registryMessage(body)}`);
  }
  return body['refresh_token'];
}

async function call(http: HttpClient, url: string, options: Parameters<HttpClient['send']>[1]): Promise<HttpResponse> {
  try {
    return await http.send(url, options);
  } catch (err) {
    throw new CredentialProviderError(`${options?.method ?? 'GET'} ${url.split('?', 1)[0]} failed: ${(err as Error).message}`);
  }
}

function json(res: HttpResponse): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(res.body.toString('utf8'));
    return typeof value === 'object' && value !== null ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/** `: <message>` of a registry error body ({"errors":[{"code","message"}]}), or nothing. */
function registryMessage(body: Record<string, unknown> | undefined): string {
  const first = (body?.['errors'] as Array<{ code?: string; message?: string }> | undefined)?.[0];
  return first ? `: ${first.code ?? ''} ${first.message ?? ''}`.trimEnd() : '';
}

/** The `exp` claim of a JWT, read without verifying: only to decide how long to cache it. */
function expiryOf(jwt: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}
