import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import type { SigningKey, SigningKeyRing } from '../crypto/signing-key-ring.js';
import { IdentityError } from './types.js';

/** Seconds a token lives, as Entra ID's client-credentials tokens. */
export const TOKEN_LIFETIME_S = 3599;
/** Entra ID back-dates `iat` and `nbf` by five minutes so that a client whose clock runs behind can use a token at once. */
const BACKDATE_S = 300;
/** How far a verifier's clock may be off from ours. */
export const CLOCK_SKEW_S = 60;

/** The claims of an identity-plane access token (Entra ID's names). */
export type AccessTokenClaims = {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  tid: string;
  oid: string;
  sub: string;
  appid: string;
  azp: string;
  /** `1`: the client authenticated with a secret; `2`: with a certificate or as a managed identity. */
  appidacr: '1' | '2';
  azpacr: '1' | '2';
  idtyp: 'app';
  ver: '1.0' | '2.0';
  /** A unique token id. */
  uti: string;
  /** The managed identity's resource id, for a managed identity's token. */
  xms_mirid?: string;
  /**
   * Not an Entra ID claim: the keyId of the password the client authenticated with, so that removing or
   * expiring that password revokes the tokens it obtained.
   */
  credential_id?: string;
};

export type UnsignedClaims = Omit<AccessTokenClaims, 'iat' | 'nbf' | 'exp' | 'uti'>;

export async function signAccessToken(key: SigningKey, claims: UnsignedClaims, now = Date.now()): Promise<{ token: string; claims: AccessTokenClaims }> {
  const seconds = Math.floor(now / 1000);
  const full: AccessTokenClaims = {
    ...claims,
    iat: seconds - BACKDATE_S,
    nbf: seconds - BACKDATE_S,
    exp: seconds + TOKEN_LIFETIME_S,
    uti: randomBytes(16).toString('base64url'),
  };
  const token = await new SignJWT(full).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid }).sign(key.privateKey);
  return { token, claims: full };
}

const REQUIRED_CLAIMS = ['iss', 'aud', 'exp', 'nbf', 'iat', 'tid', 'oid', 'appid'];

/**
 * Checks a token's signature against the ring (RS256 only, the key named by `kid`) and its lifetime.
 * The caller checks the issuer, audience and principal.
 */
export async function verifySignature(token: string, ring: SigningKeyRing): Promise<AccessTokenClaims> {
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new IdentityError('invalid_token', 'the token is not a JWT');
  }
  if (header.alg !== 'RS256') throw new IdentityError('invalid_token', `the token's algorithm ${JSON.stringify(header.alg)} is not accepted; tokens are signed with RS256`);
  const key = typeof header.kid === 'string' ? ring.byKid(header.kid) : undefined;
  if (!key) throw new IdentityError('invalid_token', `the token was not signed by a key of this server (kid ${JSON.stringify(header.kid)})`);
  try {
    const { payload } = await jwtVerify(token, key.publicKey, { algorithms: ['RS256'], clockTolerance: CLOCK_SKEW_S, requiredClaims: REQUIRED_CLAIMS });
    return payload as unknown as AccessTokenClaims;
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new IdentityError('expired_token', 'the token has expired');
    if (err instanceof errors.JWSSignatureVerificationFailed) throw new IdentityError('invalid_token', 'the token signature is invalid');
    if (err instanceof errors.JOSEError) throw new IdentityError('invalid_token', `the token is invalid: ${err.message}`);
    throw err;
  }
}
