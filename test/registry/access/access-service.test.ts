import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type Config } from '../../../src/config/config.js';
import { AccessError, type RegistryCredential } from '../../../src/registry/access/types.js';
import type { RegistryRecord } from '../../../src/registry/metadata.js';
import { openAnchorage, type Anchorage } from '../../../src/server/anchorage.js';
import { freePort } from '../../helpers/server.js';

const rejectsWith = (code: AccessError['code']) => (err: unknown) => {
  assert.ok(err instanceof AccessError, String(err));
  assert.equal(err.code, code);
  return true;
};

/** The admin user, scope maps and repository-scoped tokens, over the data folder's database, without HTTP. */
describe('registry access service', () => {
  let dir: string;
  let config: Config;
  let app: Anchorage;
  let registry: RegistryRecord;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anchorage-access-'));
    config = loadConfig({ 'data-dir': dir, port: String(await freePort()), 'no-tls': true }, {});
    app = await openAnchorage(config);
    registry = await app.registries.create('accessregistry');
  });
  after(() => {
    app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Everything SQLite keeps, as bytes: the database and its write-ahead log. */
  const stored = (): Buffer => Buffer.concat(['anchorage.db', 'anchorage.db-wal'].map((f) => {
    try {
      return readFileSync(join(dir, f));
    } catch {
      return Buffer.alloc(0);
    }
  }));

  describe('the admin user', () => {
    it('is off until enabled; enabling makes two passwords that listCredentials shows again', async () => {
      assert.equal(await app.access.adminUserEnabled('accessregistry'), false);
      await assert.rejects(app.access.adminCredentials('accessregistry'), rejectsWith('AdminUserDisabled'));
      await app.access.setAdminUserEnabled('accessregistry', true);
      const first = await app.access.adminCredentials('accessregistry');
      assert.equal(first.username, 'accessregistry');
      assert.deepEqual(first.passwords.map((p) => p.name), ['password', 'password2']);
      for (const p of first.passwords) assert.match(p.value, /^[A-Za-z0-9]{42}$/);
      assert.deepEqual(await app.access.adminCredentials('AccessRegistry'), first);
    });

    it('keeps the passwords sealed and hashed, never in the clear; the key file is 0600 and survives a restart', async () => {
      const { passwords } = await app.access.adminCredentials('accessregistry');
      for (const p of passwords) assert.equal(stored().includes(Buffer.from(p.value)), false, 'a password is stored in the clear');
      assert.equal(statSync(join(dir, 'secrets.key')).mode & 0o777, 0o600);
      const again = await openAnchorage(config);
      try {
        assert.deepEqual((await again.access.adminCredentials('accessregistry')).passwords, passwords);
      } finally {
        again.close();
      }
    });

    it('checks passwords; regenerating one ends it and leaves the other', async () => {
      const before = await app.access.adminCredentials('accessregistry');
      const [one, two] = before.passwords.map((p) => p.value) as [string, string];
      assert.equal(((await app.access.verifyPassword(registry, 'accessregistry', two)) as RegistryCredential).kind, 'admin');
      assert.deepEqual(await app.access.verifyPassword(registry, 'accessregistry', 'nope'), { refused: 'wrong password for the admin user of registry accessregistry' });
      const after = await app.access.regenerateAdminPassword('accessregistry', 'password2');
      assert.equal(after.passwords[0]!.value, one);
      assert.notEqual(after.passwords[1]!.value, two);
      assert.ok('refused' in (await app.access.verifyPassword(registry, 'accessregistry', two))!);
      assert.equal(((await app.access.verifyPassword(registry, 'ACCESSREGISTRY', after.passwords[1]!.value)) as RegistryCredential).password, 'password2');
    });

    it('disabled, refuses its passwords and hides them; enabled again, has the same ones', async () => {
      const { passwords } = await app.access.adminCredentials('accessregistry');
      await app.access.setAdminUserEnabled('accessregistry', false);
      assert.deepEqual(await app.access.verifyPassword(registry, 'accessregistry', passwords[0]!.value), { refused: 'the admin user of registry accessregistry is disabled' });
      await assert.rejects(app.access.regenerateAdminPassword('accessregistry', 'password'), rejectsWith('AdminUserDisabled'));
      await app.access.setAdminUserEnabled('accessregistry', true);
      assert.deepEqual((await app.access.adminCredentials('accessregistry')).passwords, passwords);
    });
  });

  describe('scope maps', () => {
    it('lists the three system scope maps, which cannot be changed or deleted', async () => {
      const maps = await app.access.listScopeMaps('accessregistry');
      assert.deepEqual(maps.map((m) => [m.name, m.type]), [
        ['_repositories_admin', 'SystemDefined'], ['_repositories_pull', 'SystemDefined'], ['_repositories_push', 'SystemDefined'],
      ]);
      assert.deepEqual((await app.access.scopeMap('accessregistry', '_repositories_pull'))!.actions, ['repositories/*/content/read']);
      await assert.rejects(app.access.putScopeMap('accessregistry', { name: '_repositories_pull', actions: ['repositories/*/content/write'] }), rejectsWith('InvalidInput'));
      await assert.rejects(app.access.deleteScopeMap('accessregistry', '_repositories_admin'), rejectsWith('InvalidInput'));
    });

    it('takes ACR\'s action grammar and refuses anything else', async () => {
      const map = await app.access.putScopeMap('accessregistry', {
        name: 'team-writers', description: 'team', actions: ['repositories/team/*/content/read', 'repositories/team/*/content/write', 'repositories/base/metadata/read'],
      });
      assert.equal(map.type, 'UserDefined');
      for (const bad of ['repositories/Team/content/read', 'repositories/team/content/execute', 'repositories//content/read', 'registry/catalog/read', 'repositories/team/metadata/delete']) {
        await assert.rejects(app.access.putScopeMap('accessregistry', { name: 'badmap', actions: [bad] }), rejectsWith('InvalidInput'), bad);
      }
      await assert.rejects(app.access.putScopeMap('accessregistry', { name: 'badmap', actions: [] }), rejectsWith('InvalidInput'));
      await assert.rejects(app.access.putScopeMap('accessregistry', { name: 'x', actions: ['repositories/a/content/read'] }), rejectsWith('InvalidInput'));
    });
  });

  describe('repository-scoped tokens', () => {
    it('are created against an existing scope map, never under the admin user\'s name', async () => {
      await assert.rejects(app.access.putToken('accessregistry', { name: 'lost-token', scopeMapName: 'no-such-map' }), rejectsWith('NotFound'));
      await assert.rejects(app.access.putToken('accessregistry', { name: 'AccessRegistry', scopeMapName: '_repositories_pull' }), rejectsWith('Conflict'));
      const token = await app.access.putToken('accessregistry', { name: 'team-token', scopeMapName: 'team-writers' });
      assert.deepEqual({ ...token, createdAt: '' }, { name: 'team-token', scopeMapName: 'team-writers', status: 'enabled', passwords: [], createdAt: '' });
      await assert.rejects(app.access.deleteScopeMap('accessregistry', 'team-writers'), rejectsWith('Conflict'));
    });

    it('get passwords shown once, kept as salted hashes, checked against the scope map\'s actions', async () => {
      const generated = await app.access.generateTokenCredentials('accessregistry', 'team-token', {});
      assert.equal(generated.username, 'team-token');
      assert.deepEqual(generated.passwords.map((p) => p.name), ['password1', 'password2']);
      for (const p of generated.passwords) assert.equal(stored().includes(Buffer.from(p.value)), false, 'a token password is stored in the clear');
      const credential = await app.access.verifyPassword(registry, 'team-token', generated.passwords[1]!.value) as RegistryCredential;
      assert.equal(credential.kind, 'token');
      assert.deepEqual(credential.kind === 'token' && credential.actions, ['repositories/team/*/content/read', 'repositories/team/*/content/write', 'repositories/base/metadata/read']);
      assert.deepEqual((await app.access.token('accessregistry', 'team-token'))!.passwords.map((p) => p.name), ['password1', 'password2']);
    });

    it('stop when disabled, when their password expires or is regenerated, and when deleted', async () => {
      const { passwords } = await app.access.generateTokenCredentials('accessregistry', 'team-token', { name: 'password1', expiry: new Date(Date.now() + 1000).toISOString() });
      const password = passwords[0]!.value;
      const stamp = await app.access.verifyPassword(registry, 'team-token', password) as RegistryCredential;
      assert.equal(stamp.kind, 'token');
      await app.access.putToken('accessregistry', { name: 'team-token', scopeMapName: 'team-writers', status: 'disabled' });
      assert.deepEqual(await app.access.verifyPassword(registry, 'team-token', password), { refused: 'token team-token of registry accessregistry is disabled' });
      assert.equal(await app.access.recheck(registry, stamp), undefined);
      await app.access.putToken('accessregistry', { name: 'team-token', scopeMapName: 'team-writers', status: 'enabled' });
      assert.ok(await app.access.recheck(registry, stamp));
      await sleep(1100);
      assert.match(((await app.access.verifyPassword(registry, 'team-token', password)) as { refused: string }).refused, /expired/);
      assert.equal(await app.access.recheck(registry, stamp), undefined);
      await assert.rejects(app.access.generateTokenCredentials('accessregistry', 'team-token', { expiry: '2000-01-01T00:00:00Z' }), rejectsWith('InvalidInput'));
      assert.ok(await app.access.deleteToken('accessregistry', 'team-token'));
      assert.equal(await app.access.verifyPassword(registry, 'team-token', password), undefined);
    });
  });

  it('a deleted registry takes its admin user, scope maps and tokens with it', async () => {
    await app.access.setAdminUserEnabled('accessregistry', true);
    await app.access.putToken('accessregistry', { name: 'doomed-token', scopeMapName: '_repositories_pull' });
    await app.registries.delete('accessregistry');
    await assert.rejects(app.access.adminUserEnabled('accessregistry'), rejectsWith('NotFound'));
    await app.registries.create('accessregistry');
    assert.equal(await app.access.adminUserEnabled('accessregistry'), false);
    assert.deepEqual(await app.access.listTokens('accessregistry'), []);
    assert.deepEqual((await app.access.listScopeMaps('accessregistry')).map((m) => m.name), ['_repositories_admin', '_repositories_pull', '_repositories_push']);
  });
});
