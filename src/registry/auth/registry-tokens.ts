import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { SigningKeyRing } from '../../crypto/signing-key-ring.js';
import type { CredentialStamp } from '../access/types.js';
import type { ResourceActions } from './scopes.js';

/** The algorithm of the registry plane's key ring (see SigningAlgorithm for why). */
export const TOKEN_ALGORITHM = 'ES256';
/** ACR's issuer name, as its tokens carry it. */
const ISSUER = 'Azure Container Registry';
/** ACR's refresh tokens live three hours (the JS SDK schedules its renewal from `exp`). */
export const REFRESH_TOKEN_LIFETIME_S = 3 * 60 * 60;
/** Access tokens are short: a revoked role or credential stops new pulls within this time. */
export const ACCESS_TOKEN_LIFETIME_S = 5 * 60;
/** How far a client's clock may be off. */
const CLOCK_SKEW_S = 60;
const CACHE_ENTRIES = 10_000;

/** Who a refresh token speaks for: an Entra principal, or the admin user or a repository token. */
export type TokenSubject = { kind: 'principal'; objectId: string; tenantId: string } | { kind: 'credential'; stamp: CredentialStamp };

export type RefreshTokenClaims = JWTPayload & {
  grant_type: 'refresh_token';
  tenant?: string;
  /** Ours: set when the subject is the admin user or a repository token. */
  credential?: CredentialStamp;
};

export type AccessTokenClaims = JWTPayload & {
  grant_type: 'access_token';
  access: ResourceActions[];
};

export type VerifiedRegistryToken = RefreshTokenClaims | AccessTokenClaims;

/** A token this registry does not accept, with the reason in words. */
export class RegistryTokenError extends Error {}

/**
 * ACR-shaped registry tokens: JWTs signed by the registry plane's keys, audience the registry's login server.
 * Verified tokens are cached until they expire, stamped with the key ring's generation: a removed key, or any
 * change to the keys, makes every cached verification be done again.
 */
export class RegistryTokens {
  private readonly verified = new Map<string, { claims: VerifiedRegistryToken; generation: number; expiresAt: number }>();

  constructor(private readonly keys: SigningKeyRing) {}

  async signRefreshToken(loginServer: string, subject: TokenSubject, permissions: string[]): Promise<string> {
    const claims = {
      version: '1.0', grant_type: 'refresh_token' as const,
      ...(subject.kind === 'principal' ? { tenant: subject.tenantId } : { credential: subject.stamp }),
      permissions: { actions: permissions, notActions: [] as string[] }, roles: [] as string[],
    };
    return (await this.sign(loginServer, subject.kind === 'principal' ? subject.objectId : subject.stamp.username, claims, REFRESH_TOKEN_LIFETIME_S)).token;
  }

  /** `notAfter` (epoch seconds) shortens the lifetime: a token made from another token must not outlive it. */
  async signAccessToken(loginServer: string, subject: string, access: ResourceActions[], notAfter?: number): Promise<{ token: string; issuedAt: Date; expiresIn: number }> {
    const lifetimeS = notAfter === undefined ? ACCESS_TOKEN_LIFETIME_S : Math.max(0, Math.min(ACCESS_TOKEN_LIFETIME_S, notAfter - Math.floor(Date.now() / 1000)));
    return this.sign(loginServer, subject, { version: '1.0', access, roles: [] as string[], grant_type: 'access_token' }, lifetimeS);
  }

  /** Checks a token's signature (ES256, a key of the ring by kid), issuer, audience and lifetime. */
  async verify(token: string, loginServer: string): Promise<VerifiedRegistryToken> {
    const generation = await this.keys.sync();
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && cached.generation === generation && now < cached.expiresAt) return checkAudience(cached.claims, loginServer);
    const claims = await this.verifyUncached(token);
    if (this.verified.size >= CACHE_ENTRIES) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, { claims, generation, expiresAt: (claims.exp! + CLOCK_SKEW_S) * 1000 });
    return checkAudience(claims, loginServer);
  }

  private async sign(loginServer: string, subject: string, claims: Record<string, unknown>, lifetimeS: number): Promise<{ token: string; issuedAt: Date; expiresIn: number }> {
    const key = await this.keys.active();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT', kid: key.kid })
      .setJti(randomUUID()).setSubject(subject).setIssuer(ISSUER).setAudience(loginServer)
      .setIssuedAt(now).setNotBefore(now).setExpirationTime(now + lifetimeS)
      .sign(key.privateKey);
    return { token, issuedAt: new Date(now * 1000), expiresIn: lifetimeS };
  }

  private async verifyUncached(token: string): Promise<VerifiedRegistryToken> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new RegistryTokenError('the token is not a JWT');
    }
    if (header.alg !== TOKEN_ALGORITHM) throw new RegistryTokenError(`the token's algorithm ${JSON.stringify(header.alg)} is not accepted; registry tokens are ${TOKEN_ALGORITHM}`);
    const key = typeof header.kid === 'string' ? this.keys.byKid(header.kid) : undefined;
    if (!key) throw new RegistryTokenError(`the token was not signed by a key of this registry service (kid ${JSON.stringify(header.kid)})`);
    try {
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [TOKEN_ALGORITHM], issuer: ISSUER, clockTolerance: CLOCK_SKEW_S, requiredClaims: ['exp', 'nbf', 'aud', 'sub', 'grant_type'],
      });
      if (payload.grant_type !== 'refresh_token' && payload.grant_type !== 'access_token') throw new RegistryTokenError('the token is neither a refresh nor an access token');
      return payload as VerifiedRegistryToken;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new RegistryTokenError('the token has expired');
      if (err instanceof errors.JWSSignatureVerificationFailed) throw new RegistryTokenError('the token signature is invalid');
      if (err instanceof errors.JOSEError) throw new RegistryTokenError(`the token is invalid: ${err.message}`);
      throw err;
    }
  }
}

/** A token is for one registry: the audience is its login server (another registry's token is refused). */
function checkAudience(claims: VerifiedRegistryToken, loginServer: string): VerifiedRegistryToken {
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => typeof a === 'string' && sameService(a, loginServer))) {
    throw new RegistryTokenError(`the token is for ${aud.join(', ')}, not for ${loginServer}`);
  }
  return claims;
}

/** Login servers compare case-insensitively, with or without the default HTTPS port. */
export function sameService(a: string, b: string): boolean {
  const canonical = (s: string): string => s.toLowerCase().replace(/:443$/, '');
  return canonical(a) === canonical(b);
}
