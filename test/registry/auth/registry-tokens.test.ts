import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SigningKeyRing } from '../../../src/crypto/signing-key-ring.js';
import { REFRESH_TOKEN_LIFETIME_S, RegistryTokenError, RegistryTokens, TOKEN_ALGORITHM } from '../../../src/registry/auth/registry-tokens.js';
import { SqliteKeyStore } from '../../../src/registry/auth/sqlite-key-store.js';
import { jwtPayload } from '../../helpers/registry-auth.js';

const ACCESS = [{ type: 'repository', name: 'app', actions: ['pull'] }];
const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

/** Registry tokens and their keys: verification is cached, but never past a key's removal, by this process or another. */
describe('registry tokens and signing keys', () => {
  let dir: string;
  let store: SqliteKeyStore;
  let ring: SigningKeyRing;
  let tokens: RegistryTokens;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'anchorage-keys-'));
    store = new SqliteKeyStore(join(dir, 'anchorage.db'));
    ring = new SigningKeyRing(store, TOKEN_ALGORITHM, REFRESH_TOKEN_LIFETIME_S * 1000);
    tokens = new RegistryTokens(ring);
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusal = (message: RegExp) => (err: unknown) => {
    assert.ok(err instanceof RegistryTokenError, String(err));
    assert.match(err.message, message);
    return true;
  };

  it('signs with a key made on first use and verifies, for its audience only', async () => {
    const { token, expiresIn } = await tokens.signAccessToken('localhost:5000', 'someone', ACCESS);
    assert.equal(expiresIn, 300);
    assert.deepEqual((await tokens.verify(token, 'localhost:5000') as { access: unknown }).access, ACCESS);
    assert.deepEqual((await tokens.verify(token, 'LOCALHOST:5000') as { access: unknown }).access, ACCESS, 'from the cache, with the audience checked again');
    await assert.rejects(tokens.verify(token, 'localhost:5001'), refusal(/not for localhost:5001/));
  });

  it('a rotated-out key keeps verifying its tokens; new tokens name the new key', async () => {
    const old = (await tokens.signAccessToken('localhost:5000', 'someone', ACCESS)).token;
    const kid = await ring.rotate();
    const fresh = (await tokens.signAccessToken('localhost:5000', 'someone', ACCESS)).token;
    assert.equal(kidOf(fresh), kid);
    assert.notEqual(kidOf(old), kid);
    await tokens.verify(old, 'localhost:5000');
    await tokens.verify(fresh, 'localhost:5000');
  });

  it('a removed key stops its tokens at once, cached or not', async () => {
    const { token } = await tokens.signAccessToken('localhost:5000', 'someone', ACCESS);
    await tokens.verify(token, 'localhost:5000');
    assert.ok(await ring.remove(kidOf(token)));
    await assert.rejects(tokens.verify(token, 'localhost:5000'), refusal(/not signed by a key of this registry service/));
    const next = (await tokens.signAccessToken('localhost:5000', 'someone', ACCESS)).token;
    assert.notEqual(kidOf(next), kidOf(token), 'removing the active key makes a new one');
    await tokens.verify(next, 'localhost:5000');
  });

  it('a key removed by another process stops its tokens here too', async () => {
    const { token } = await tokens.signAccessToken('localhost:5000', 'someone', ACCESS);
    await tokens.verify(token, 'localhost:5000');
    const other = new SqliteKeyStore(join(dir, 'anchorage.db'));
    try {
      assert.ok(other.deleteSigningKey(kidOf(token)));
    } finally {
      other.close();
    }
    await assert.rejects(tokens.verify(token, 'localhost:5000'), refusal(/not signed by a key/));
  });

  it('refresh tokens live three hours and say whom they speak for', async () => {
    const token = await tokens.signRefreshToken('localhost:5000', { kind: 'principal', objectId: 'oid', tenantId: 'tid' }, ['Microsoft.ContainerRegistry/registries/pull/read']);
    const claims = jwtPayload(token);
    assert.equal((claims['exp'] as number) - (claims['iat'] as number), 3 * 3600);
    assert.deepEqual([claims['sub'], claims['tenant'], claims['grant_type'], claims['iss']], ['oid', 'tid', 'refresh_token', 'Azure Container Registry']);
    assert.deepEqual(claims['permissions'], { actions: ['Microsoft.ContainerRegistry/registries/pull/read'], notActions: [] });
  });
});
