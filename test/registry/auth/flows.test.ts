import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { accessToken, createClusterIdentity, type TestPrincipal } from '../../helpers/identity.js';
import { postForm } from '../../helpers/identity.js';
import { assignRole, basic, bearer, createPlacedRegistry, jwtPayload, NULL_GUID, registryToken } from '../../helpers/registry-auth.js';
import { assertRegistryError, RegistryClient, type PushedImage } from '../../helpers/registry-client.js';
import { startTestServer, useAdminUser, type TestServer } from '../../helpers/server.js';

/**
 * The seed's two flows through the registry's data plane with real credentials, and every way in which a
 * credential or token must be refused (each refusal: 401 UNAUTHORIZED in OCI error JSON, with the reason).
 */
describe('registry authorization: the seed flows and their refusals', () => {
  let server: TestServer;
  let a: { url: string; resourceId: string; image: PushedImage };
  let b: { url: string; resourceId: string; image: PushedImage };
  let puller: TestPrincipal;
  let nobody: TestPrincipal;

  const manifest = (url: string, image: PushedImage, authorization?: string, method = 'GET') =>
    fetch(`${url}/v2/app/manifests/${image.digest}`, { method, headers: authorization ? { Authorization: authorization } : {} });
  const armToken = (who: TestPrincipal, resource = 'https://management.azure.com') =>
    accessToken(server.config.publicUrl, server.app.identity.defaultTenantId, who, resource);

  before(async () => {
    server = await startTestServer({ anonymousPull: false });
    const placed = async (name: string) => {
      const { registry, url } = await createPlacedRegistry(server.app, name);
      await useAdminUser(server.app, registry, url);
      return { url, resourceId: registry.resourceId!, image: await new RegistryClient(url).pushImage('app', 'v1') };
    };
    a = await placed('registrya');
    b = await placed('registryb');
    puller = await createClusterIdentity(server.app, 'puller');
    nobody = await createClusterIdentity(server.app, 'nobody');
    await assignRole(server.app, puller.principal.objectId, 'acrPull', a.resourceId);
  });
  after(() => server.close());

  describe('flow 2: an application id and its secret (an image pull secret)', () => {
    it('pulls with Basic credentials sent straight to the registry', async () => {
      const res = await manifest(a.url, a.image, basic(puller.principal.appId, puller.password.secretText));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), a.image.digest);
    });

    it('pulls with an access token from the password grant, which holds exactly pull on the repository', async () => {
      const token = await registryToken(a.url, {
        grant_type: 'password', username: puller.principal.appId, password: puller.password.secretText, scope: 'repository:app:pull,push,delete',
      });
      assert.deepEqual(jwtPayload(token)['access'], [{ type: 'repository', name: 'app', actions: ['pull'] }]);
      assert.equal((await manifest(a.url, a.image, bearer(token))).status, 200);
    });
  });

  describe('flow 1: an identity-plane token exchanged for a registry refresh token', () => {
    for (const audience of ['https://management.azure.com', 'https://containerregistry.azure.net']) {
      it(`exchanges a token for ${audience}, then pulls with the refresh grant's access token`, async () => {
        const exchanged = await postForm(`${a.url}/oauth2/exchange`, {
          grant_type: 'access_token', service: new URL(a.url).host, tenant: server.app.identity.defaultTenantId, access_token: await armToken(puller, audience),
        });
        assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
        const refreshToken = exchanged.body['refresh_token'] as string;
        const claims = jwtPayload(refreshToken);
        assert.equal(claims['aud'], new URL(a.url).host);
        assert.equal((claims['exp'] as number) - (claims['iat'] as number), 3 * 3600);
        const token = await registryToken(a.url, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'repository:app:pull' });
        assert.equal((await manifest(a.url, a.image, bearer(token))).status, 200);
        // The kubelet credential provider's form: username 00000000-... with the refresh token as password.
        assert.equal((await manifest(a.url, a.image, basic(NULL_GUID, refreshToken))).status, 200);
        const viaPassword = await registryToken(a.url, { grant_type: 'password', username: NULL_GUID, password: refreshToken, scope: 'repository:app:pull' });
        assert.equal((await manifest(a.url, a.image, bearer(viaPassword))).status, 200);

        // An access token in place of the refresh token gives what it holds, never past its own expiry: exchanging
        // each token for the next would otherwise keep access alive after the role or credential is gone.
        await new Promise((r) => setTimeout(r, 1100));
        const fromAccess = await registryToken(a.url, { grant_type: 'refresh_token', refresh_token: token, scope: 'repository:app:pull' });
        assert.equal((await manifest(a.url, a.image, bearer(fromAccess))).status, 200);
        assert.ok((jwtPayload(fromAccess)['exp'] as number) <= (jwtPayload(token)['exp'] as number), 'expires with the token it was made from');
        const fromPassword = await registryToken(a.url, { grant_type: 'password', username: NULL_GUID, password: fromAccess, scope: 'repository:app:pull' });
        assert.ok((jwtPayload(fromPassword)['exp'] as number) <= (jwtPayload(token)['exp'] as number));
      });
    }
  });

  describe('refusals', () => {
    /** The 401 every refusal is: UNAUTHORIZED, a reason, and the challenge for the scope that was missing. */
    const refused = async (res: Response, reason?: RegExp): Promise<void> => {
      const challenge = res.headers.get('www-authenticate');
      const error = await assertRegistryError(res, 401, 'UNAUTHORIZED');
      assert.match(challenge ?? '', /^Bearer realm="http:\/\/localhost:\d+\/oauth2\/token",service="localhost:\d+",scope="repository:app:/);
      if (reason) assert.match(error!.message, reason);
    };

    it('no role: no pull, with the reason RBAC gives', async () => {
      await refused(await manifest(a.url, a.image, basic(nobody.principal.appId, nobody.password.secretText)), /has no role assignment granting/);
      const token = await registryToken(a.url, { grant_type: 'password', username: nobody.principal.appId, password: nobody.password.secretText, scope: 'repository:app:pull' });
      assert.deepEqual(jwtPayload(token)['access'], []);
      await refused(await manifest(a.url, a.image, bearer(token)));
      await refused(await manifest(a.url, a.image), /authentication required/);
    });

    it('AcrPull cannot push or delete', async () => {
      const token = await registryToken(a.url, {
        grant_type: 'password', username: puller.principal.appId, password: puller.password.secretText, scope: 'repository:app:pull,push',
      });
      const put = await fetch(`${a.url}/v2/app/manifests/other`, {
        method: 'PUT', body: new Uint8Array(a.image.body), headers: { Authorization: bearer(token), 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      });
      await refused(put);
      const upload = await fetch(`${a.url}/v2/app/blobs/uploads/`, { method: 'POST', headers: { Authorization: basic(puller.principal.appId, puller.password.secretText) } });
      await refused(upload, /push\/write/);
      await refused(await manifest(a.url, a.image, basic(puller.principal.appId, puller.password.secretText), 'DELETE'), /artifacts\/delete/);
    });

    it('an assignment on registry A grants nothing on registry B', async () => {
      await refused(await manifest(b.url, b.image, basic(puller.principal.appId, puller.password.secretText)), /has no role assignment granting/);
    });

    it('a token issued for registry A is refused by registry B', async () => {
      const token = await registryToken(a.url, { grant_type: 'password', username: puller.principal.appId, password: puller.password.secretText, scope: 'repository:app:pull' });
      await refused(await manifest(b.url, b.image, bearer(token)), /is for localhost:\d+, not for/);
    });

    it('removing an assignment denies new tokens', async () => {
      const who = await createClusterIdentity(server.app, 'removed');
      const assignment = await assignRole(server.app, who.principal.objectId, 'acrPull', a.resourceId);
      const form = { grant_type: 'password', username: who.principal.appId, password: who.password.secretText, scope: 'repository:app:pull' };
      assert.deepEqual(jwtPayload(await registryToken(a.url, form))['access'], [{ type: 'repository', name: 'app', actions: ['pull'] }]);
      assert.ok(await server.app.rbac.deleteAssignment(a.resourceId, assignment));
      assert.deepEqual(jwtPayload(await registryToken(a.url, form))['access'], []);
      await refused(await manifest(a.url, a.image, basic(who.principal.appId, who.password.secretText)));
    });

    it('a reset secret stops the old one', async () => {
      const who = await createClusterIdentity(server.app, 'reset');
      await assignRole(server.app, who.principal.objectId, 'acrPull', a.resourceId);
      const fresh = await server.app.identity.addPassword(who.principal.appId, {});
      const directory = server.app.identity.directory(who.principal.tenantId);
      const app = (await directory.listApplications({ filter: { appId: who.principal.appId }, top: 1 })).items[0]!;
      await directory.removePassword({ kind: 'application', id: app.id }, who.password.keyId);
      await refused(await manifest(a.url, a.image, basic(who.principal.appId, who.password.secretText)), /client secret/);
      const old = await postForm(`${a.url}/oauth2/token`, { grant_type: 'password', username: who.principal.appId, password: who.password.secretText, scope: 'repository:app:pull' });
      assert.equal(old.status, 401);
      assert.equal((old.body['errors'] as Array<{ code: string }>)[0]!.code, 'UNAUTHORIZED');
      assert.equal((await manifest(a.url, a.image, basic(who.principal.appId, fresh.secretText))).status, 200);
    });

    describe('forged and stale tokens', () => {
      /** The registry plane's active signing key, read from the data folder as an attacker with a copy of it would. */
      const activeKey = (): JWK => {
        const db = new Database(join(server.dataDir, 'anchorage.db'), { readonly: true });
        try {
          return JSON.parse(db.prepare('SELECT private_jwk FROM registry_token_keys WHERE retired_at IS NULL').pluck().get() as string) as JWK;
        } finally {
          db.close();
        }
      };
      const claims = (url: string, overrides: Record<string, unknown> = {}) => ({
        jti: randomUUID(), sub: 'forger', iss: 'Azure Container Registry', aud: new URL(url).host, version: '1.0', grant_type: 'access_token',
        access: [{ type: 'repository', name: 'app', actions: ['pull'] }], roles: [],
        nbf: Math.floor(Date.now() / 1000) - 60, iat: Math.floor(Date.now() / 1000) - 60, exp: Math.floor(Date.now() / 1000) + 300, ...overrides,
      });
      const sign = async (payload: object, jwk: JWK) => new SignJWT({ ...payload }).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: jwk.kid! })
        .sign(await importJWK(jwk, 'ES256'));

      it('a token signed with the registry key is accepted (the control case)', async () => {
        assert.equal((await manifest(a.url, a.image, bearer(await sign(claims(a.url), activeKey())))).status, 200);
      });

      it('an expired token', async () => {
        const now = Math.floor(Date.now() / 1000);
        const token = await sign(claims(a.url, { iat: now - 7200, nbf: now - 7200, exp: now - 3600 }), activeKey());
        await refused(await manifest(a.url, a.image, bearer(token)), /expired/);
      });

      it('a token signed by another key, under the registry key\'s kid or its own', async () => {
        const { privateKey } = await generateKeyPair('ES256', { extractable: true });
        const other = await exportJWK(privateKey);
        await refused(await manifest(a.url, a.image, bearer(await sign(claims(a.url), { ...other, kid: activeKey().kid! }))), /signature/);
        await refused(await manifest(a.url, a.image, bearer(await sign(claims(a.url), { ...other, kid: 'not-a-registry-key' }))), /not signed by a key/);
      });

      it('alg: none', async () => {
        const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims(a.url))).toString('base64url')}.`;
        await refused(await manifest(a.url, a.image, bearer(unsigned)), /algorithm "none"/);
      });

      it('a refresh token is not an access token', async () => {
        await refused(await manifest(a.url, a.image, bearer(await sign(claims(a.url, { grant_type: 'refresh_token' }), activeKey()))), /refresh token/);
      });
    });

    describe('the admin user and repository-scoped tokens', () => {
      const registryName = 'registrya';

      it('a wrong password', async () => {
        await refused(await manifest(a.url, a.image, basic(registryName, 'wrong')), /wrong password/);
        const res = await fetch(`${a.url}/oauth2/token?service=${new URL(a.url).host}&scope=repository:app:pull`, { headers: { Authorization: basic(registryName, 'wrong') } });
        await assertRegistryError(res, 401, 'UNAUTHORIZED');
      });

      it('a repository token used on another repository', async () => {
        await server.app.access.putScopeMap(registryName, { name: 'app-reader', actions: ['repositories/app/content/read'] });
        await server.app.access.putToken(registryName, { name: 'app-token', scopeMapName: 'app-reader' });
        const { passwords } = await server.app.access.generateTokenCredentials(registryName, 'app-token', {});
        const password = passwords[0]!.value;
        assert.equal((await manifest(a.url, a.image, basic('app-token', password))).status, 200);
        const other = await fetch(`${a.url}/v2/other/manifests/v1`, { headers: { Authorization: basic('app-token', password) } });
        await assertRegistryError(other, 401, 'UNAUTHORIZED');
        const token = await registryToken(a.url, { grant_type: 'password', username: 'app-token', password, scope: 'repository:other:pull repository:app:pull' });
        assert.deepEqual(jwtPayload(token)['access'], [{ type: 'repository', name: 'app', actions: ['pull'] }]);
      });

      it('a disabled admin user: Basic, the password grant and its refresh tokens all stop', async () => {
        const { username, passwords } = await server.app.access.adminCredentials(registryName);
        const password = passwords[1]!.value;
        const offline = await fetch(`${a.url}/oauth2/token?service=${new URL(a.url).host}&offline_token=true&client_id=docker`, { headers: { Authorization: basic(username, password) } });
        const refreshToken = ((await offline.json()) as { refresh_token: string }).refresh_token;
        assert.equal((await manifest(a.url, a.image, basic(NULL_GUID, refreshToken))).status, 200);
        await server.app.access.setAdminUserEnabled(registryName, false);
        try {
          await refused(await manifest(a.url, a.image, basic(username, password)), /admin user of registry registrya is disabled/);
          await refused(await manifest(a.url, a.image, basic(NULL_GUID, refreshToken)), /regenerated, disabled or removed/);
          const res = await postForm(`${a.url}/oauth2/token`, { grant_type: 'password', username, password, service: new URL(a.url).host, scope: 'repository:app:pull' });
          assert.equal(res.status, 401);
          assert.equal((res.body['errors'] as Array<{ code: string }>)[0]!.code, 'UNAUTHORIZED');
        } finally {
          await server.app.access.setAdminUserEnabled(registryName, true);
        }
      });
    });
  });
});
