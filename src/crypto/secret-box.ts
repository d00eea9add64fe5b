import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a key kept in a file of the data folder (mode 0600), for the few secrets Anchorage must be
 * able to show again: the registry admin user's passwords (ACR's listCredentials returns them; a salted hash
 * checks them) and a cluster's service principal secret (what its nodes' azure.json carries). The `context`
 * (what the value belongs to) is authenticated with each value, so a sealed value copied elsewhere does not open.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /**
   * Reads the key file, or creates it (and its folder) on first use. The key is written whole to a private
   * temporary file and then linked into place, so two processes starting at once agree on one complete key.
   */
  static open(keyFile: string): SecretBox {
    mkdirSync(dirname(keyFile), { recursive: true });
    const pending = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(pending, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(pending, keyFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(pending);
    }
    const key = readFileSync(keyFile);
    if (key.length !== KEY_BYTES) throw new Error(`${keyFile} is not a ${KEY_BYTES}-byte key`);
    return new SecretBox(key);
  }

  seal(plaintext: string, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  /** Throws when the value was not sealed with this key and context. */
  unseal(sealed: Buffer, context: string): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}
