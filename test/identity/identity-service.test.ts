import Database from 'better-sqlite3';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { SqliteIdentityService } from '../../src/identity/identity-service.js';
import { AUDIENCES, DIRECTORY_WRITER_ROLE, IdentityError } from '../../src/identity/types.js';

const PUBLIC_URL = 'https://localhost:8443';
const ARM = 'https://management.azure.com/';

function rejectsWith(reason: IdentityError['reason']) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof IdentityError, String(err));
    assert.equal(err.reason, reason, err.message);
    return true;
  };
}

describe('identity service', () => {
  let dir: string;
  let file: string;
  let identity: SqliteIdentityService;
  /** Reads the shared database file as another process would. */
  let db: Database.Database;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anchorage-identity-'));
    file = join(dir, 'anchorage.db');
    identity = await SqliteIdentityService.open(file, { publicUrl: PUBLIC_URL });
    db = new Database(file, { readonly: true });
  });
  after(() => {
    db.close();
    identity.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const clientToken = (appId: string, secret: string, resource = ARM) =>
    identity.clientCredentialsToken({ tenant: identity.defaultTenantId, clientId: appId, clientSecret: secret, resource, authority: 'v2' });

  it('creates a default tenant once, and keeps it across reopening', async () => {
    const tenant = await identity.tenant(identity.defaultTenantId);
    assert.equal(tenant?.isDefault, true);
    const again = await SqliteIdentityService.open(file, { publicUrl: PUBLIC_URL });
    assert.equal(again.defaultTenantId, identity.defaultTenantId);
    again.close();
  });

  it('stores a password only as a salted hash, and shows its secret once', async () => {
    const { principal, password } = await identity.createServicePrincipal({ displayName: 'hashing' });
    assert.equal(password.hint, password.secretText.slice(0, 3));
    const rows = db.prepare('SELECT * FROM password_credentials WHERE app_id = ?').all(principal.appId) as Array<Record<string, unknown>>;
    assert.equal(rows.length, 1);
    const stored = JSON.stringify(rows[0], (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
    assert.ok(!stored.includes(password.secretText), 'the secret is not stored');
    assert.ok(!stored.includes(Buffer.from(password.secretText).toString('hex')), 'nor its bytes');
    assert.equal((rows[0]!['hash'] as Buffer).length, 32);
    assert.equal((rows[0]!['salt'] as Buffer).length, 16);
    const second = await identity.addPassword(principal.appId, { displayName: 'second' });
    assert.notEqual(second.secretText, password.secretText);
  });

  it('accepts the right secret and refuses a wrong one, an unknown app, and one without a service principal', async () => {
    const { principal, password } = await identity.createServicePrincipal({ displayName: 'secrets' });
    assert.equal((await identity.checkClientSecret(principal.appId, password.secretText)).objectId, principal.objectId);
    assert.equal((await identity.checkClientSecret(principal.appId, password.secretText)).objectId, principal.objectId, 'twice (cached)');
    await assert.rejects(identity.checkClientSecret(principal.appId, `${password.secretText}x`), rejectsWith('invalid_secret'));
    await assert.rejects(identity.checkClientSecret('00000000-0000-0000-0000-000000000001', 'x'), rejectsWith('unknown_client'));
    const lone = await identity.directory(identity.defaultTenantId).createApplication({ displayName: 'no-sp' });
    await assert.rejects(identity.checkClientSecret(lone.appId, 'x'), rejectsWith('unknown_principal'));
  });

  it('stops accepting an expired password', async () => {
    const { principal } = await identity.createServicePrincipal({ displayName: 'expiring' });
    const directory = identity.directory(identity.defaultTenantId);
    const sp = (await directory.listServicePrincipals({ top: 1, filter: { appId: principal.appId } })).items[0]!;
    const past = await directory.addPassword({ kind: 'servicePrincipal', id: sp.id }, {
      startDateTime: new Date(Date.now() - 7200_000).toISOString(), endDateTime: new Date(Date.now() - 3600_000).toISOString(),
    });
    await assert.rejects(identity.checkClientSecret(principal.appId, past.secretText), rejectsWith('expired_secret'));
    const expiring = await identity.expiringPasswords(new Date());
    assert.ok(expiring.some((e) => e.password.keyId === past.keyId && e.principal.appId === principal.appId));
  });

  it('stops accepting a removed password at once, even after it was accepted', async () => {
    const { principal, password } = await identity.createServicePrincipal({ displayName: 'removing' });
    const token = await clientToken(principal.appId, password.secretText);
    await identity.verifyAccessToken(token.accessToken, AUDIENCES.arm);
    const directory = identity.directory(identity.defaultTenantId);
    const app = (await directory.listApplications({ top: 1, filter: { appId: principal.appId } })).items[0]!;
    await directory.removePassword({ kind: 'application', id: app.id }, password.keyId);
    await assert.rejects(identity.checkClientSecret(principal.appId, password.secretText), rejectsWith('invalid_secret'));
    await assert.rejects(identity.verifyAccessToken(token.accessToken, AUDIENCES.arm), rejectsWith('invalid_token'), 'tokens it obtained are revoked');
  });

  it('issues RS256 tokens with the claims clients read, and verifies them', async () => {
    const { principal, password } = await identity.createServicePrincipal({ displayName: 'claims' });
    const issued = await clientToken(principal.appId, password.secretText, 'https://management.core.windows.net/');
    const header = decodeProtectedHeader(issued.accessToken);
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);
    const claims = decodeJwt(issued.accessToken);
    assert.equal(claims.iss, `${PUBLIC_URL}/${identity.defaultTenantId}/v2.0`);
    assert.equal(claims.aud, 'https://management.core.windows.net/');
    for (const [claim, value] of Object.entries({ tid: identity.defaultTenantId, oid: principal.objectId, sub: principal.objectId, appid: principal.appId, azp: principal.appId, idtyp: 'app', ver: '2.0' })) {
      assert.equal(claims[claim], value, claim);
    }
    assert.ok(typeof claims.iat === 'number' && typeof claims.nbf === 'number' && typeof claims.exp === 'number');
    assert.equal(issued.expiresIn, 3599);
    const verified = await identity.verifyAccessToken(issued.accessToken, AUDIENCES.arm);
    assert.equal(verified.principal.objectId, principal.objectId);
    assert.equal(verified.tenantId, identity.defaultTenantId);
  });

  it('refuses a wrong audience, and resources it does not know', async () => {
    const { principal, password } = await identity.createServicePrincipal({ displayName: 'audience' });
    const issued = await clientToken(principal.appId, password.secretText);
    await assert.rejects(identity.verifyAccessToken(issued.accessToken, AUDIENCES.acr), rejectsWith('wrong_audience'));
    await assert.rejects(clientToken(principal.appId, password.secretText, 'https://vault.azure.net'), rejectsWith('unknown_resource'));
    const graph = await clientToken(principal.appId, password.secretText, `${PUBLIC_URL}/`);
    await identity.verifyAccessToken(graph.accessToken, [`${PUBLIC_URL}/`]);
  });

  it('refuses alg none, HS256, a foreign key, an unknown kid and an expired token', async () => {
    const { principal, password } = await identity.createServicePrincipal({ displayName: 'forged' });
    const genuine = await clientToken(principal.appId, password.secretText);
    const claims = decodeJwt(genuine.accessToken);
    const { kid } = decodeProtectedHeader(genuine.accessToken);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(claims)}.`;
    await assert.rejects(identity.verifyAccessToken(none, AUDIENCES.arm), rejectsWith('invalid_token'));
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: kid! }).sign(Buffer.from('a shared secret of 32 bytes.....'));
    await assert.rejects(identity.verifyAccessToken(hs, AUDIENCES.arm), rejectsWith('invalid_token'));
    const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const sameKid = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: kid! }).sign(foreign);
    await assert.rejects(identity.verifyAccessToken(sameKid, AUDIENCES.arm), rejectsWith('invalid_token'));
    const otherKid = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'someone-else' }).sign(foreign);
    await assert.rejects(identity.verifyAccessToken(otherKid, AUDIENCES.arm), rejectsWith('invalid_token'));
    const ownKey = createPrivateKey({ key: JSON.parse(db.prepare('SELECT private_jwk FROM signing_keys WHERE kid = ?').pluck().get(kid) as string), format: 'jwk' });
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    const expired = await new SignJWT({ ...claims, iat: hourAgo - 3600, nbf: hourAgo - 3600, exp: hourAgo }).setProtectedHeader({ alg: 'RS256', kid: kid! }).sign(ownKey);
    await assert.rejects(identity.verifyAccessToken(expired, AUDIENCES.arm), rejectsWith('expired_token'));
    const otherIssuer = await new SignJWT({ ...claims, iss: 'https://login.microsoftonline.com/x/v2.0' }).setProtectedHeader({ alg: 'RS256', kid: kid! }).sign(ownKey);
    await assert.rejects(identity.verifyAccessToken(otherIssuer, AUDIENCES.arm), rejectsWith('invalid_token'));
    await assert.rejects(identity.verifyAccessToken('not.a.jwt', AUDIENCES.arm), rejectsWith('invalid_token'));
  });

  it('rotates signing keys: the previous key stays published and verifying until removed', async () => {
    const { principal, password } = await identity.createServicePrincipal({ displayName: 'rotation' });
    const before = await clientToken(principal.appId, password.secretText);
    const oldKid = decodeProtectedHeader(before.accessToken).kid!;
    const newKid = await identity.rotateSigningKey();
    assert.notEqual(newKid, oldKid);
    const published = (await identity.signingKeys()).map((k) => k.kid);
    assert.ok(published.includes(oldKid) && published.includes(newKid));
    const afterRotation = await clientToken(principal.appId, password.secretText);
    assert.equal(decodeProtectedHeader(afterRotation.accessToken).kid, newKid);
    await identity.verifyAccessToken(before.accessToken, AUDIENCES.arm);
    assert.equal(await identity.removeSigningKey(oldKid), true);
    assert.ok(!(await identity.signingKeys()).some((k) => k.kid === oldKid));
    await assert.rejects(identity.verifyAccessToken(before.accessToken, AUDIENCES.arm), rejectsWith('invalid_token'));
    await identity.verifyAccessToken(afterRotation.accessToken, AUDIENCES.arm);
  });

  it('sees a key rotated by another process', async () => {
    const other = await SqliteIdentityService.open(file, { publicUrl: PUBLIC_URL });
    const kid = await other.rotateSigningKey();
    other.close();
    const { principal, password } = await identity.createServicePrincipal({ displayName: 'cross-process' });
    assert.equal(decodeProtectedHeader((await clientToken(principal.appId, password.secretText)).accessToken).kid, kid);
  });

  it('refuses the tokens of a deleted principal, even cached ones', async () => {
    const { principal, password } = await identity.createServicePrincipal({ displayName: 'deleted' });
    const issued = await clientToken(principal.appId, password.secretText);
    await identity.verifyAccessToken(issued.accessToken, AUDIENCES.arm);
    assert.equal(await identity.deletePrincipal(principal.objectId), true);
    await assert.rejects(identity.verifyAccessToken(issued.accessToken, AUDIENCES.arm), rejectsWith('unknown_principal'));
    assert.equal(await identity.principalByAppId(principal.appId), undefined);
    await assert.rejects(identity.checkClientSecret(principal.appId, password.secretText), rejectsWith('unknown_client'));
  });

  it('gives a service principal its directory roles, and its URL-like display name as a name', async () => {
    const { principal } = await identity.createServicePrincipal({ displayName: 'http://seed-sp', directoryRoles: [DIRECTORY_WRITER_ROLE] });
    assert.deepEqual(principal.directoryRoles, [DIRECTORY_WRITER_ROLE]);
    const found = await identity.directory(identity.defaultTenantId).listServicePrincipals({ top: 10, filter: { servicePrincipalName: 'HTTP://seed-sp' } });
    assert.deepEqual(found.items.map((s) => s.appId), [principal.appId]);
    assert.deepEqual(found.items[0]!.servicePrincipalNames, [principal.appId, 'http://seed-sp']);
    assert.equal((await identity.principalByObjectId(principal.objectId))?.appId, principal.appId);
  });

  it('creates a managed identity once per resource, with tokens that name it', async () => {
    const resourceId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet';
    const mi = await identity.createManagedIdentity({ displayName: 'kubelet', resourceId });
    assert.equal(mi.type, 'ManagedIdentity');
    assert.deepEqual(await identity.createManagedIdentity({ displayName: 'kubelet', resourceId }), mi);
    const { accessToken } = await identity.issueAccessToken(mi, AUDIENCES.acr[0]);
    assert.equal(decodeJwt(accessToken).xms_mirid, resourceId);
    const verified = await identity.verifyAccessToken(accessToken, AUDIENCES.acr);
    assert.equal(verified.principal.type, 'ManagedIdentity');
    await assert.rejects(identity.checkClientSecret(mi.appId, 'anything'), rejectsWith('invalid_secret'));
  });

  it('refuses a client of another tenant and an unknown tenant', async () => {
    const { principal, password } = await identity.createServicePrincipal({ displayName: 'tenancy' });
    await assert.rejects(identity.clientCredentialsToken({ tenant: '11111111-1111-1111-1111-111111111111', clientId: principal.appId, clientSecret: password.secretText, resource: ARM, authority: 'v2' }), rejectsWith('unknown_tenant'));
    const v1 = await identity.clientCredentialsToken({ tenant: undefined, clientId: principal.appId, clientSecret: password.secretText, resource: ARM, authority: 'v1' });
    assert.equal(decodeJwt(v1.accessToken).iss, `${PUBLIC_URL}/${identity.defaultTenantId}/`);
    const adfs = await identity.clientCredentialsToken({ tenant: undefined, clientId: principal.appId, clientSecret: password.secretText, resource: ARM, authority: 'adfs' });
    assert.equal(decodeJwt(adfs.accessToken).iss, `${PUBLIC_URL}/adfs`);
    await identity.verifyAccessToken(adfs.accessToken, AUDIENCES.arm);
  });
});
