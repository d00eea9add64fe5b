import { randomInt } from 'node:crypto';

/**
 * Registry passwords (the admin user's, repository tokens') are generated here, never chosen by a person, and
 * stored hashed (crypto/secret-hash): 42 characters of a 62-letter alphabet, about 250 bits.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LENGTH = 42;

/** Letters and digits only, so that the password survives shells, URLs and docker config files unquoted. */
export function newRegistryPassword(): string {
  let out = '';
  for (let i = 0; i < LENGTH; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}
