import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * Registry passwords (the admin user's, repository tokens') are generated here, never chosen by a person:
 * 42 characters of a 62-letter alphabet, about 250 bits. Against secrets that strong a salted SHA-256 is as
 * good as a slow key-derivation function (there is no dictionary to try), and it keeps the check cheap enough
 * to run on every Basic-authenticated request and every token issued.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LENGTH = 42;
const SALT_BYTES = 16;

/** Letters and digits only, so that the password survives shells, URLs and docker config files unquoted. */
export function newRegistryPassword(): string {
  let out = '';
  for (let i = 0; i < LENGTH; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

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
