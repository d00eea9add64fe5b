import { randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets: generated here (never chosen by a person), shown once, stored as a salted scrypt hash.
 * The shape follows Entra ID's: three characters that become the visible hint, a version marker, then the rest.
 */

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** `~`, `_` and `.` survive shells, URLs, docker config files and Kubernetes secrets unquoted. */
const SECRET_ALPHABET = `${ALPHANUMERIC}~_.`;
const SECRET_BODY_LENGTH = 35;
const HINT_LENGTH = 3;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const SCRYPT_COST = { N: 16384, r: 8, p: 1 } as const;

function randomChars(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A new secret; its first characters are alphanumeric so that it never reads as a command-line option. */
export function newClientSecret(): string {
  return `${randomChars(ALPHANUMERIC, HINT_LENGTH)}8Q~${randomChars(SECRET_ALPHABET, SECRET_BODY_LENGTH)}`;
}

export function secretHint(secret: string): string {
  return secret.slice(0, HINT_LENGTH);
}

export interface SecretHash {
  salt: Buffer;
  hash: Buffer;
}

function derive(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, HASH_BYTES, SCRYPT_COST, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashSecret(secret: string): Promise<SecretHash> {
  const salt = randomBytes(SALT_BYTES);
  return { salt, hash: await derive(secret, salt) };
}

export async function secretMatches(secret: string, stored: SecretHash): Promise<boolean> {
  const candidate = await derive(secret, stored.salt);
  return candidate.length === stored.hash.length && timingSafeEqual(candidate, stored.hash);
}
