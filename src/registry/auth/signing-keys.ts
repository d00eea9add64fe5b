import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SqliteKeyStore } from './sqlite-key-store.js';

/** ES256: registry clients treat tokens as opaque, and P-256 signs an order of magnitude faster than RSA-2048. */
export const TOKEN_ALGORITHM = 'ES256';

export interface RegistrySigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  retiredAt: number | null;
}

/**
 * The registry plane's signing keys, persisted so that restarts and replicas share them. One key signs; a
 * rotated-out key keeps verifying for `retiredLifetimeMs` (the longest a token it signed lives), then goes.
 * The ring rereads the store whenever the store's generation moved, so a key removed by any process stops
 * verifying at once; `generation` lets verification caches tell that they are stale.
 */
export class SigningKeyRing {
  private keys: RegistrySigningKey[] = [];
  private loadedGeneration = -1;

  constructor(private readonly store: SqliteKeyStore, private readonly retiredLifetimeMs: number) {}

  /** Rereads the keys if they changed; makes the first key on a new store. Returns the generation they are at. */
  async sync(): Promise<number> {
    const generation = this.store.generation();
    if (generation === this.loadedGeneration) return generation;
    const cutoff = Date.now() - this.retiredLifetimeMs;
    const rows = this.store.keys().filter((r) => r.retired_at === null || Date.parse(r.retired_at) >= cutoff);
    this.keys = await Promise.all(rows.map(async (r): Promise<RegistrySigningKey> => {
      const jwk = JSON.parse(r.private_jwk) as JWK;
      const { d: _private, ...publicJwk } = jwk;
      return {
        kid: r.kid,
        privateKey: await importJWK(jwk, TOKEN_ALGORITHM) as CryptoKey,
        publicKey: await importJWK(publicJwk, TOKEN_ALGORITHM) as CryptoKey,
        retiredAt: r.retired_at === null ? null : Date.parse(r.retired_at),
      };
    }));
    this.loadedGeneration = generation;
    if (!this.keys.some((k) => k.retiredAt === null)) {
      await this.rotate();
      return this.sync();
    }
    return generation;
  }

  async active(): Promise<RegistrySigningKey> {
    await this.sync();
    return this.keys.find((k) => k.retiredAt === null)!;
  }

  /** A key that may verify: the active one, or one retired less than a token lifetime ago. */
  byKid(kid: string): RegistrySigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  /** A new key signs from now on; returns its kid. */
  async rotate(): Promise<string> {
    const { privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    this.store.activate(kid, JSON.stringify({ ...jwk, kid, alg: TOKEN_ALGORITHM }), new Date(Date.now() - this.retiredLifetimeMs).toISOString());
    await this.sync();
    return kid;
  }

  /** Withdraws a key at once (a compromised key): every token it signed stops verifying. */
  async remove(kid: string): Promise<boolean> {
    const removed = this.store.delete(kid);
    await this.sync();
    return removed;
  }
}
