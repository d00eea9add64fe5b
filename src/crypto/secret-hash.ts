import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How every plane stores the secrets it generates (client secrets, registry passwords): a salted SHA-256.
 * Each of those secrets is machine-generated with at least 200 bits of entropy (client secrets about 228,
 * registry passwords about 250), so there is no dictionary to try and a slow key-derivation function would add
 * nothing but cost; a plain digest keeps the check cheap enough to run on every request that authenticates.
 * Never use this for a secret a person chooses.
 */

const SALT_BYTES = 16;

export interface SecretHash {
  salt: Buffer;
  hash: Buffer;
}

function digest(secret: string, salt: Buffer): Buffer {
  return createHash('sha256').update(salt).update(secret, 'utf8').digest();
}

export function hashSecret(secret: string): SecretHash {
  const salt = randomBytes(SALT_BYTES);
  return { salt, hash: digest(secret, salt) };
}

/** Constant-time: the time taken does not tell how much of the secret was right. */
export function secretMatches(secret: string, stored: SecretHash): boolean {
  const candidate = digest(secret, stored.salt);
  return candidate.length === stored.hash.length && timingSafeEqual(candidate, stored.hash);
}
