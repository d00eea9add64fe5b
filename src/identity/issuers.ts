import type { Authority } from './types.js';

/**
 * The URLs of each authority the server answers as, built from its public URL. The token service and the
 * discovery documents share them, so that a token's `iss` is what the discovery document of its authority says.
 * Entra ID's v2 issuer is `<host>/<tenant>/v2.0`, its v1 issuer `<sts host>/<tenant>/`; ADFS's is `<host>/adfs`.
 */

export function issuer(publicUrl: string, authority: Authority, tenantId: string): string {
  switch (authority) {
    case 'v2': return `${publicUrl}/${tenantId}/v2.0`;
    case 'v1': return `${publicUrl}/${tenantId}/`;
    case 'adfs': return `${publicUrl}/adfs`;
  }
}

/** Every issuer a token of this tenant may carry. */
export function issuersOf(publicUrl: string, tenantId: string): string[] {
  return (['v2', 'v1', 'adfs'] as const).map((authority) => issuer(publicUrl, authority, tenantId));
}

/** The token endpoint of an authority; `tenant` is the path segment the client used (a tenant id, `common`, `organizations`). */
export function tokenEndpoint(publicUrl: string, authority: Authority, tenant: string): string {
  switch (authority) {
    case 'v2': return `${publicUrl}/${tenant}/oauth2/v2.0/token`;
    case 'v1': return `${publicUrl}/${tenant}/oauth2/token`;
    case 'adfs': return `${publicUrl}/adfs/oauth2/token`;
  }
}

export function authorizationEndpoint(publicUrl: string, authority: Authority, tenant: string): string {
  switch (authority) {
    case 'v2': return `${publicUrl}/${tenant}/oauth2/v2.0/authorize`;
    case 'v1': return `${publicUrl}/${tenant}/oauth2/authorize`;
    case 'adfs': return `${publicUrl}/adfs/oauth2/authorize`;
  }
}

export function jwksUri(publicUrl: string, authority: Authority, tenant: string): string {
  switch (authority) {
    case 'v2': return `${publicUrl}/${tenant}/discovery/v2.0/keys`;
    case 'v1': return `${publicUrl}/${tenant}/discovery/keys`;
    case 'adfs': return `${publicUrl}/adfs/discovery/keys`;
  }
}

export function openIdConfigurationUrl(publicUrl: string, authority: Authority, tenant: string): string {
  switch (authority) {
    case 'v2': return `${publicUrl}/${tenant}/v2.0/.well-known/openid-configuration`;
    case 'v1': return `${publicUrl}/${tenant}/.well-known/openid-configuration`;
    case 'adfs': return `${publicUrl}/adfs/.well-known/openid-configuration`;
  }
}
