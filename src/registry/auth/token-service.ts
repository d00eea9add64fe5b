import { AUDIENCES, IdentityError, type IdentityService } from '../../identity/types.js';
import type { RegistryCredentials } from '../access/types.js';
import type { RegistryRecord } from '../metadata.js';
import type { AccessGranter, Caller } from './grants.js';
import { RegistryTokenError, sameService, type RegistryTokens } from './registry-tokens.js';
import { covers, formatScope, parseScopes, type ResourceActions } from './scopes.js';
import { GUID } from '../../guid.js';

/** The username that says "the password is a registry token", as `az acr login` and the kubelet credential provider send it. */
export const NULL_GUID = '00000000-0000-0000-0000-000000000000';

/** A token request the service refuses: malformed (`invalid_request`) or with credentials that do not check out. */
export class TokenRequestError extends Error {
  constructor(readonly kind: 'invalid_request' | 'unauthorized', message: string) {
    super(message);
  }
}

/** The credentials a data-plane request carries. */
export type Presented = { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'basic'; username: string; password: string };

export interface ExchangeRequest {
  grantType: string | undefined;
  service: string | undefined;
  tenant: string | undefined;
  /** The identity plane's access token (resource manager or ACR audience). */
  accessToken: string | undefined;
}

/** Clients ask for one to a few scopes; 32 names of up to 255 characters still make a token that fits in a header. */
const MAX_SCOPES = 32;

export interface TokenRequest {
  /** `refresh_token`, `password`, or undefined for the GET form, whose credentials come by Basic. */
  grantType: string | undefined;
  service: string | undefined;
  /** The `scope` values as sent: repeated, space-separated, or both. */
  scopes: string[];
  refreshToken: string | undefined;
  username: string | undefined;
  password: string | undefined;
  /** `offline_token=true` or `access_type=offline`: the caller wants a refresh token too. */
  offline: boolean;
}

export interface IssuedRegistryToken {
  accessToken: string;
  expiresIn: number;
  issuedAt: Date;
  refreshToken?: string;
}

export type Authorization = { allowed: true } | { allowed: false; reason: string };

/** A caller the service has authenticated, with the refresh token it presented or may be given. */
interface Authenticated {
  caller: Caller;
  /** The `sub` of the tokens issued to it. */
  subject: string;
  /** The refresh token the caller presented. */
  refreshToken?: string;
  /** When what the caller presented expires (epoch seconds), for a registry access token presented in place of a refresh token. */
  notAfter?: number;
}

/**
 * ACR's token service: `/oauth2/exchange` turns an identity-plane token into a registry refresh token;
 * `/oauth2/token` turns a refresh token, an application's secret, the admin user's or a repository token's
 * password (or nothing, for anonymous pull) into an access token holding only the actions granted; and every
 * data-plane request is authorized here, by access token or by the same credentials sent as Basic.
 */
export class RegistryTokenService {
  constructor(
    private readonly identity: IdentityService,
    private readonly credentials: RegistryCredentials,
    private readonly granter: AccessGranter,
    private readonly tokens: RegistryTokens,
  ) {}

  async exchange(registry: RegistryRecord, request: ExchangeRequest): Promise<{ refreshToken: string }> {
    // `access_token_refresh_token` is the older form (the kubelet credential provider still sends it); the token to exchange is the same.
    if (request.grantType !== 'access_token' && request.grantType !== 'access_token_refresh_token') {
      throw new TokenRequestError('invalid_request', `grant_type ${JSON.stringify(request.grantType ?? '')} is not supported: use access_token`);
    }
    this.checkService(registry, request.service);
    if (!request.accessToken) throw new TokenRequestError('invalid_request', 'access_token is required');
    let verified;
    try {
      verified = await this.identity.verifyAccessToken(request.accessToken, [...AUDIENCES.arm, ...AUDIENCES.acr]);
    } catch (err) {
      if (err instanceof IdentityError) throw new TokenRequestError('unauthorized', `the access token was refused: ${err.message}`);
      throw err;
    }
    if (request.tenant && request.tenant.toLowerCase() !== verified.tenantId.toLowerCase()) {
      throw new TokenRequestError('unauthorized', `the access token is for tenant ${verified.tenantId}, not ${request.tenant}`);
    }
    const { principal } = verified;
    const permissions = await this.granter.rbacPermissions(registry, principal);
    return { refreshToken: await this.tokens.signRefreshToken(registry.loginServer, { kind: 'principal', objectId: principal.objectId, tenantId: principal.tenantId }, permissions) };
  }

  async token(registry: RegistryRecord, request: TokenRequest): Promise<IssuedRegistryToken> {
    this.checkService(registry, request.service);
    let who: Authenticated;
    if (request.grantType === 'refresh_token') {
      if (!request.refreshToken) throw new TokenRequestError('invalid_request', 'refresh_token is required with grant_type=refresh_token');
      who = await this.fromRefreshToken(registry, request.refreshToken);
    } else if (request.grantType === 'password' || request.grantType === undefined) {
      // The ACR SDK asks for anonymous tokens with grant_type=password and no credentials at all.
      who = request.username || request.password
        ? await this.fromPassword(registry, request.username ?? '', request.password ?? '')
        : { caller: { kind: 'anonymous' }, subject: 'anonymous' };
    } else {
      throw new TokenRequestError('invalid_request', `grant_type ${JSON.stringify(request.grantType)} is not supported: use refresh_token or password`);
    }
    const scopes = parseScopes(request.scopes);
    if (scopes.length > MAX_SCOPES) {
      throw new TokenRequestError('invalid_request', `${scopes.length} scopes were asked for; a token carries at most ${MAX_SCOPES} (more would not fit in a request header)`);
    }
    const { granted } = await this.granter.grant(registry, who.caller, scopes);
    const issued = await this.tokens.signAccessToken(registry.loginServer, who.subject, granted, who.notAfter);
    const refreshToken = request.grantType === 'refresh_token' ? who.refreshToken : request.offline ? await this.newRefreshToken(registry, who) : undefined;
    return { accessToken: issued.token, expiresIn: issued.expiresIn, issuedAt: issued.issuedAt, ...(refreshToken ? { refreshToken } : {}) };
  }

  /** Whether a data-plane request may go ahead; `required` is what its route needs (see requiredAccess). */
  async authorize(registry: RegistryRecord, presented: Presented, required: ResourceActions[]): Promise<Authorization> {
    let granted: ResourceActions[];
    let refusals: string[] = [];
    try {
      if (presented.kind === 'bearer') {
        const claims = await this.verify(registry, presented.token);
        if (claims.grant_type !== 'access_token') return { allowed: false, reason: 'a refresh token is not an access token: exchange it at /oauth2/token' };
        granted = claims.access;
      } else if (presented.kind === 'none' && required.length === 0) {
        return { allowed: false, reason: 'no credentials were presented' };
      } else {
        const caller: Caller = presented.kind === 'basic' ? (await this.fromPassword(registry, presented.username, presented.password)).caller : { kind: 'anonymous' };
        ({ granted, refusals } = await this.granter.grant(registry, caller, required));
      }
    } catch (err) {
      if (err instanceof TokenRequestError) return { allowed: false, reason: err.message };
      throw err;
    }
    if (covers(granted, required)) return { allowed: true };
    return { allowed: false, reason: refusals[0] ?? `the access token does not grant ${required.map(formatScope).join(' ')}` };
  }

  /** `username:password` as the token endpoint and Basic take them; throws TokenRequestError unauthorized. */
  private async fromPassword(registry: RegistryRecord, username: string, password: string): Promise<Authenticated> {
    if (username === NULL_GUID) return this.fromRefreshToken(registry, password);
    const credential = await this.credentials.verifyPassword(registry, username, password);
    if (credential && 'refused' in credential) throw new TokenRequestError('unauthorized', credential.refused);
    if (credential) return { caller: { kind: 'credential', credential }, subject: credential.username };
    if (!GUID.test(username)) throw new TokenRequestError('unauthorized', `unknown username ${JSON.stringify(username)}: use an application id, the admin user or a token of registry ${registry.name}`);
    try {
      const principal = await this.identity.checkClientSecret(username, password);
      return { caller: { kind: 'principal', principal }, subject: principal.objectId };
    } catch (err) {
      if (err instanceof IdentityError) throw new TokenRequestError('unauthorized', err.message);
      throw err;
    }
  }

  /**
   * A refresh token speaks for its subject as long as that subject is still there: the principal exists, or the
   * admin password or token password it was obtained with has not been regenerated, disabled or removed.
   * A registry access token sent in its place (`docker login -u 00000000-... -p <access token>`) grants what it holds,
   * in tokens that expire with it: exchanging one for the next must not keep access alive past a revocation.
   */
  private async fromRefreshToken(registry: RegistryRecord, token: string): Promise<Authenticated> {
    const claims = await this.verify(registry, token);
    if (claims.grant_type === 'access_token') return { caller: { kind: 'holder', access: claims.access }, subject: claims.sub!, notAfter: claims.exp! };
    if (claims.credential) {
      const credential = await this.credentials.recheck(registry, claims.credential);
      if (!credential) throw new TokenRequestError('unauthorized', `the credential of ${claims.credential.username} this refresh token was obtained with has been regenerated, disabled or removed`);
      return { caller: { kind: 'credential', credential }, subject: credential.username, refreshToken: token };
    }
    const principal = await this.identity.principalByObjectId(claims.sub!);
    if (!principal || (claims.tenant && principal.tenantId.toLowerCase() !== claims.tenant.toLowerCase())) {
      throw new TokenRequestError('unauthorized', `the principal ${claims.sub} of this refresh token no longer exists`);
    }
    return { caller: { kind: 'principal', principal }, subject: principal.objectId, refreshToken: token };
  }

  private async newRefreshToken(registry: RegistryRecord, who: Authenticated): Promise<string | undefined> {
    const { caller } = who;
    switch (caller.kind) {
      case 'principal':
        return this.tokens.signRefreshToken(registry.loginServer, { kind: 'principal', objectId: caller.principal.objectId, tenantId: caller.principal.tenantId },
          await this.granter.rbacPermissions(registry, caller.principal));
      case 'credential': {
        const { kind, username, password, issuedAt } = caller.credential;
        return this.tokens.signRefreshToken(registry.loginServer, { kind: 'credential', stamp: { kind, username, password, issuedAt } }, ['*']);
      }
      default:
        return who.refreshToken;
    }
  }

  private async verify(registry: RegistryRecord, token: string) {
    try {
      return await this.tokens.verify(token, registry.loginServer);
    } catch (err) {
      if (err instanceof RegistryTokenError) throw new TokenRequestError('unauthorized', err.message);
      throw err;
    }
  }

  /** `service` names the registry the token is for; a token asked of one registry for another is refused. */
  private checkService(registry: RegistryRecord, service: string | undefined): void {
    if (service !== undefined && service !== '' && !sameService(service, registry.loginServer)) {
      throw new TokenRequestError('unauthorized', `the service ${service} is not this registry (${registry.loginServer})`);
    }
  }
}
