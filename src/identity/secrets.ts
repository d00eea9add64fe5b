import { ALPHANUMERIC, randomText } from '../crypto/random-text.js';

/**
 * Client secrets: generated here (never chosen by a person), shown once, stored hashed (crypto/secret-hash).
 * The shape follows Entra ID's: three characters that become the visible hint, a version marker, then the rest:
 * 3 of 62 and 35 of 65 characters, about 228 bits.
 */

/** `~`, `_` and `.` survive shells, URLs, docker config files and Kubernetes secrets unquoted. */
const SECRET_ALPHABET = `${ALPHANUMERIC}~_.`;
const SECRET_BODY_LENGTH = 35;
const HINT_LENGTH = 3;

/** A new secret; its first characters are alphanumeric so that it never reads as a command-line option. */
export function newClientSecret(): string {
  return `${randomText(ALPHANUMERIC, HINT_LENGTH)}8Q~${randomText(SECRET_ALPHABET, SECRET_BODY_LENGTH)}`;
}

export function secretHint(secret: string): string {
  return secret.slice(0, HINT_LENGTH);
}
