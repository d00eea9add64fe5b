import { ALPHANUMERIC, randomText } from '../../crypto/random-text.js';

/**
 * Registry passwords (the admin user's, repository tokens') are generated here, never chosen by a person, and
 * stored hashed (crypto/secret-hash): 42 characters of a 62-letter alphabet, about 250 bits.
 */

const LENGTH = 42;

/** Letters and digits only, so that the password survives shells, URLs and docker config files unquoted. */
export function newRegistryPassword(): string {
  return randomText(ALPHANUMERIC, LENGTH);
}
