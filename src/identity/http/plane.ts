import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpPlane } from '../../server/plane.js';
import type { Authority, IdentityService } from '../types.js';
import { handleInstanceDiscovery, handleKeys, handleOpenIdConfiguration } from './discovery.js';
import { handleTokenRequest } from './token-endpoint.js';

type Endpoint = 'token' | 'openid-configuration' | 'keys' | 'instance-discovery';

/** The identity plane's routes; `/adfs/...` comes before the tenant forms, which would otherwise read "adfs" as a tenant. */
const ROUTES: ReadonlyArray<{ pattern: RegExp; endpoint: Endpoint; authority: Authority }> = [
  { pattern: /^\/common\/discovery\/instance$/, endpoint: 'instance-discovery', authority: 'v2' },
  { pattern: /^\/adfs\/oauth2\/token\/?$/, endpoint: 'token', authority: 'adfs' },
  { pattern: /^\/adfs\/\.well-known\/openid-configuration$/, endpoint: 'openid-configuration', authority: 'adfs' },
  { pattern: /^\/adfs\/discovery\/keys$/, endpoint: 'keys', authority: 'adfs' },
  { pattern: /^\/([\w.-]+)\/oauth2\/v2\.0\/token$/, endpoint: 'token', authority: 'v2' },
  { pattern: /^\/([\w.-]+)\/oauth2\/token$/, endpoint: 'token', authority: 'v1' },
  { pattern: /^\/([\w.-]+)\/v2\.0\/\.well-known\/openid-configuration$/, endpoint: 'openid-configuration', authority: 'v2' },
  { pattern: /^\/([\w.-]+)\/\.well-known\/openid-configuration$/, endpoint: 'openid-configuration', authority: 'v1' },
  { pattern: /^\/([\w.-]+)\/discovery\/v2\.0\/keys$/, endpoint: 'keys', authority: 'v2' },
  { pattern: /^\/([\w.-]+)\/discovery\/keys$/, endpoint: 'keys', authority: 'v1' },
];

function route(path: string): { endpoint: Endpoint; authority: Authority; tenant: string | undefined } | undefined {
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (m) return { endpoint: r.endpoint, authority: r.authority, tenant: m[1] };
  }
  return undefined;
}

/** The identity plane on the main port: token endpoints, OpenID discovery, JWKS and MSAL instance discovery. */
export class IdentityHttpPlane implements HttpPlane {
  readonly name = 'identity';

  constructor(private readonly identity: IdentityService, private readonly publicUrl: string) {}

  claims(path: string): boolean {
    return route(path) !== undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const matched = route((req.url ?? '/').split('?', 1)[0]!);
    if (!matched) throw new Error(`the identity plane was given a path it does not claim: ${req.url}`);
    const { endpoint, authority, tenant } = matched;
    switch (endpoint) {
      case 'token': return handleTokenRequest(req, res, this.identity, authority, tenant);
      case 'openid-configuration': return handleOpenIdConfiguration(req, res, this.identity, this.publicUrl, authority, tenant ?? 'adfs');
      case 'keys': return handleKeys(req, res, this.identity, authority, tenant ?? 'adfs');
      case 'instance-discovery': return handleInstanceDiscovery(req, res, this.publicUrl);
    }
  }
}
