import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';

/**
 * RS256 for the identity plane (Entra ID's tokens are RS256, and clients check that); ES256 for registry tokens
 * (clients treat them as opaque, and P-256 signs an order of magnitude faster than RSA-2048).
 */
export type SigningAlgorithm = 'RS256' | 'ES256';

export interface SigningKeyRow { kid: string; private_jwk: string; retired_at: string | null }

/** Where a plane keeps its signing keys; each plane has its own table. */
export interface KeyStore {
  /** Changes whenever any process adds, retires or removes a key (it may change for other reasons too). */
  generation(): number;
  signingKeys(): SigningKeyRow[];
  /** In one transaction: `kid` becomes the active key, the previous one retires now, keys retired before `dropRetiredBefore` go. */
  activateSigningKey(kid: string, privateJwk: string, dropRetiredBefore: string): void;
  deleteSigningKey(kid: string): boolean;
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as a JWKS publishes it. */
  jwk: JWK & { kid: string; use: 'sig'; alg: SigningAlgorithm };
  retiredAt: number | null;
}

function newPrivateKey(algorithm: SigningAlgorithm): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _publicKey: KeyObject, privateKey: KeyObject) => (err ? reject(err) : resolve(privateKey));
    if (algorithm === 'RS256') generateKeyPair('rsa', { modulusLength: 2048 }, done);
    else generateKeyPair('ec', { namedCurve: 'P-256' }, done);
  });
}

/**
 * A plane's signing keys, persisted so that restarts and replicas share them; the kid is the key's JWK
 * thumbprint. One key signs; a rotated-out key keeps verifying (and stays published) for `retiredLifetimeMs`,
 * the longest a token it signed lives, then goes. The ring rereads the store whenever the store's generation
 * moved, so a key rotated or removed by any process is seen at once; `sync` returns that generation so that
 * verification caches can tell they are stale.
 */
export class SigningKeyRing {
  private keys: SigningKey[] = [];
  private loadedGeneration = -1;

  constructor(private readonly store: KeyStore, readonly algorithm: SigningAlgorithm, private readonly retiredLifetimeMs: number) {}

  /** Rereads the keys if the store changed; makes the first key on a new store. Returns the generation they are at. */
  async sync(): Promise<number> {
    const generation = this.store.generation();
    if (generation === this.loadedGeneration) return generation;
    const cutoff = Date.now() - this.retiredLifetimeMs;
    // A kid is a thumbprint, so a key already parsed is reused: only its retirement can have changed.
    const parsed = new Map(this.keys.map((k) => [k.kid, k]));
    this.keys = this.store.signingKeys()
      .filter((r) => r.retired_at === null || Date.parse(r.retired_at) >= cutoff)
      .map((r) => {
        const retiredAt = r.retired_at === null ? null : Date.parse(r.retired_at);
        const known = parsed.get(r.kid);
        return known ? { ...known, retiredAt } : this.parse(r.kid, r.private_jwk, retiredAt);
      });
    this.loadedGeneration = generation;
    if (!this.keys.some((k) => k.retiredAt === null)) await this.rotate();
    return this.loadedGeneration;
  }

  async active(): Promise<SigningKey> {
    await this.sync();
    return this.keys.find((k) => k.retiredAt === null)!;
  }

  /** A key that may verify: the active one, or one retired less than a token lifetime ago (as of the last sync). */
  byKid(kid: string): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  /** Every key that still verifies, the signing one first. */
  async list(): Promise<Array<{ kid: string; signing: boolean; retiredAt: Date | null }>> {
    await this.sync();
    return [...this.keys].sort((a, b) => (a.retiredAt ?? Infinity) > (b.retiredAt ?? Infinity) ? -1 : 1)
      .map((k) => ({ kid: k.kid, signing: k.retiredAt === null, retiredAt: k.retiredAt === null ? null : new Date(k.retiredAt) }));
  }

  /** The public keys, for a JWKS (as of the last sync). */
  published(): SigningKey['jwk'][] {
    return this.keys.map((k) => k.jwk);
  }

  /** A new key signs from now on; returns its kid. */
  async rotate(): Promise<string> {
    const privateKey = await newPrivateKey(this.algorithm);
    const kid = await calculateJwkThumbprint(createPublicKey(privateKey).export({ format: 'jwk' }) as JWK);
    // kid and alg ride along so that the stored JWK is complete on its own.
    const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: this.algorithm };
    this.store.activateSigningKey(kid, JSON.stringify(privateJwk), new Date(Date.now() - this.retiredLifetimeMs).toISOString());
    await this.sync();
    return kid;
  }

  /** Withdraws a key at once (a compromised key): every token it signed stops verifying; a new key replaces an active one. */
  async remove(kid: string): Promise<boolean> {
    const removed = this.store.deleteSigningKey(kid);
    await this.sync();
    return removed;
  }

  private parse(kid: string, privateJwk: string, retiredAt: number | null): SigningKey {
    const privateKey = createPrivateKey({ key: JSON.parse(privateJwk) as JWK & { kty: string }, format: 'jwk' });
    const publicKey = createPublicKey(privateKey);
    return { kid, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: this.algorithm }, retiredAt };
  }
}
