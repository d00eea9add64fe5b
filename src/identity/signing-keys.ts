import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import type { SigningKeyRow, SqliteIdentityStore } from './sqlite-store.js';
import type { PublicSigningKey } from './types.js';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: PublicSigningKey;
  retiredAt: Date | null;
}

const RSA_BITS = 2048;

function newKeyPair(): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: RSA_BITS }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey })));
  });
}

function toSigningKey(row: SigningKeyRow): SigningKey {
  return {
    kid: row.kid,
    privateKey: createPrivateKey(row.private_pem),
    publicKey: createPublicKey(row.private_pem),
    jwk: JSON.parse(row.public_jwk) as PublicSigningKey,
    retiredAt: row.retired_at === null ? null : new Date(row.retired_at),
  };
}

/**
 * The RSA keys that sign access tokens, kept in the store so that restarts and replicas share them.
 * One key is active; a retired key stays published, and keeps verifying, for `retiredKeyLifetimeMs`
 * (the longest a token it signed can live), then it is dropped.
 */
export class SigningKeyRing {
  private keys: SigningKey[] = [];

  constructor(private readonly store: SqliteIdentityStore, private readonly retiredKeyLifetimeMs: number) {}

  /** Rereads the keys (another process may have rotated them); makes the first one on a new store. */
  async load(): Promise<void> {
    const cutoff = Date.now() - this.retiredKeyLifetimeMs;
    this.keys = this.store.signingKeys().map(toSigningKey)
      .filter((k) => k.retiredAt === null || k.retiredAt.getTime() >= cutoff);
    if (!this.keys.some((k) => k.retiredAt === null)) await this.rotate();
  }

  active(): SigningKey {
    const key = this.keys.find((k) => k.retiredAt === null);
    if (!key) throw new Error('no active signing key');
    return key;
  }

  /** A key that may verify tokens: active, or retired within its tokens' lifetime. */
  byKid(kid: string): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  published(): PublicSigningKey[] {
    return this.keys.map((k) => k.jwk);
  }

  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await newKeyPair();
    const exported = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(exported);
    const jwk: PublicSigningKey = { kty: 'RSA', use: 'sig', alg: 'RS256', kid, n: exported.n!, e: exported.e! };
    const now = new Date();
    this.store.insertActiveSigningKey(kid, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, JSON.stringify(jwk), now.toISOString());
    this.store.deleteSigningKeysRetiredBefore(new Date(now.getTime() - this.retiredKeyLifetimeMs).toISOString());
    this.keys = this.store.signingKeys().map(toSigningKey);
    return kid;
  }

  async remove(kid: string): Promise<boolean> {
    const wasActive = this.byKid(kid)?.retiredAt === null;
    const removed = this.store.deleteSigningKey(kid);
    if (wasActive) await this.rotate();
    else this.keys = this.keys.filter((k) => k.kid !== kid);
    return removed;
  }
}
