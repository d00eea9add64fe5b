import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accessToken, createAdministrator, createClusterIdentity, postForm, type TestPrincipal } from '../helpers/identity.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** `$filter` as `az` 2.45 encodes it: `quote(filter, safe='')`. */
const azFilter = (filter: string): string => `$filter=${encodeURIComponent(filter).replace(/'/g, '%27').replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;

type Json = Record<string, any>;

describe('Graph over HTTP', () => {
  let server: TestServer;
  let url: string;
  let admin: TestPrincipal;
  let adminToken: string;
  let clusterToken: string;

  const graph = async (method: string, path: string, options: { token?: string | null; body?: unknown } = {}): Promise<{ status: number; body: Json; headers: Headers }> => {
    const token = options.token === undefined ? adminToken : options.token;
    const res = await fetch(path.startsWith('http') ? path : `${url}/v1.0${path}`, {
      method,
      headers: { ...(token === null ? {} : { Authorization: `Bearer ${token}` }), ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Json), headers: res.headers };
  };

  const assertGraphError = (r: { status: number; body: Json }, status: number, code: string): void => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body['error']?.code, code, JSON.stringify(r.body));
    assert.equal(typeof r.body['error']?.message, 'string');
  };

  before(async () => {
    server = await startTestServer();
    url = server.config.publicUrl;
    const tenant = server.app.identity.defaultTenantId;
    admin = await createAdministrator(server.app);
    adminToken = await accessToken(url, tenant, admin, `${url}/`);
    clusterToken = await accessToken(url, tenant, await createClusterIdentity(server.app), `${url}/`);
  });
  after(() => server.close());

  it('runs `az ad sp create-for-rbac --name http://NAME`, then `az ad sp show --id http://NAME`, as az sends them', async () => {
    const name = 'http://seed-sp';
    const existingSp = await graph('GET', `/servicePrincipals?${azFilter(`displayName eq '${name}'`)}`);
    assert.equal(existingSp.status, 200);
    assert.deepEqual(existingSp.body['value'], []);
    assert.match(existingSp.body['@odata.context'], /\/v1\.0\/\$metadata#servicePrincipals$/);
    const existingApp = await graph('GET', `/applications?${azFilter(`startswith(displayName,'${name}')`)}`);
    assert.deepEqual(existingApp.body['value'], []);

    const created = await graph('POST', '/applications', { body: { displayName: name } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const field of ['id', 'appId', 'displayName']) assert.equal(typeof created.body[field], 'string', field);
    assert.deepEqual(created.body['passwordCredentials'], []);
    assert.deepEqual(created.body['identifierUris'], []);
    const appObjectId = created.body['id'] as string;
    const appId = created.body['appId'] as string;
    assert.equal((await graph('GET', `/Applications/${appObjectId}`)).body['appId'], appId, 'segments are read without regard to case');

    const start = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const end = new Date(Date.now() + 365 * 86400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const password = await graph('POST', `/applications/${appObjectId}/addPassword`, { body: { passwordCredential: { displayName: 'rbac', startDateTime: start, endDateTime: end } } });
    assert.equal(password.status, 200, JSON.stringify(password.body));
    assert.match(password.body['@odata.context'], /#microsoft\.graph\.passwordCredential$/);
    assert.equal(typeof password.body['secretText'], 'string');
    assert.equal(password.body['hint'], (password.body['secretText'] as string).slice(0, 3));
    assert.equal(password.body['displayName'], 'rbac');
    assert.equal(password.body['customKeyIdentifier'], null);

    const sp = await graph('POST', '/servicePrincipals', { body: { appId, accountEnabled: true } });
    assert.equal(sp.status, 201, JSON.stringify(sp.body));
    assert.equal(sp.body['appId'], appId);
    assert.deepEqual(sp.body['servicePrincipalNames'], [appId, name]);
    assert.equal(sp.body['servicePrincipalType'], 'Application');

    const shown = await graph('GET', `/servicePrincipals?${azFilter(`servicePrincipalNames/any(c:c eq '${name}')`)}`);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body['value'].map((s: Json) => s['appId']), [appId]);
    const byId = await graph('GET', `/servicePrincipals/${shown.body['value'][0].id}`);
    assert.equal(byId.body['appId'], appId);

    const token = await postForm(`${url}/${server.app.identity.defaultTenantId}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials', client_id: appId, client_secret: password.body['secretText'], scope: 'https://management.azure.com/.default',
    });
    assert.equal(token.status, 200, 'the new secret works');

    // Running create-for-rbac again finds the application, patches it and replaces its password.
    const again = await graph('GET', `/applications?${azFilter(`startswith(displayName,'${name}')`)}`);
    assert.equal(again.body['value'].length, 1);
    assert.equal((await graph('GET', `/applications?${azFilter(`appId eq '${appObjectId}'`)}`)).body['value'].length, 0);
    const patched = await graph('PATCH', `/applications/${appObjectId}`, { body: { displayName: name } });
    assert.equal(patched.status, 204);
    const keyId = again.body['value'][0].passwordCredentials[0].keyId;
    assert.equal((await graph('POST', `/applications/${appObjectId}/removePassword`, { body: { keyId } })).status, 204);
    const stale = await postForm(`${url}/${server.app.identity.defaultTenantId}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials', client_id: appId, client_secret: password.body['secretText'], scope: 'https://management.azure.com/.default',
    });
    assert.equal(stale.status, 401, 'the removed secret stops working');
  });

  it('resolves an assignee by appId, then by object id through getByIds with its @odata.type', async () => {
    const app = (await graph('POST', '/applications', { body: { displayName: 'assignee' } })).body;
    const sp = (await graph('POST', '/servicePrincipals', { body: { appId: app['appId'] } })).body;
    const byName = await graph('GET', `/servicePrincipals?${azFilter(`servicePrincipalNames/any(c:c eq '${app['appId']}')`)}`);
    assert.deepEqual(byName.body['value'].map((s: Json) => s['id']), [sp['id']]);
    const objects = await graph('POST', '/directoryObjects/getByIds', { body: { ids: [sp['id'], app['id'], '00000000-0000-4000-8000-000000000000'], types: ['user', 'group', 'servicePrincipal', 'directoryObjectPartnerReference'] } });
    assert.equal(objects.status, 200);
    assert.deepEqual(objects.body['value'].map((o: Json) => [o['id'], o['@odata.type']]), [[sp['id'], '#microsoft.graph.servicePrincipal']]);
    const both = await graph('POST', '/directoryObjects/getByIds', { body: { ids: [sp['id'], app['id']] } });
    assert.deepEqual(both.body['value'].map((o: Json) => o['@odata.type']), ['#microsoft.graph.servicePrincipal', '#microsoft.graph.application']);
    const users = await graph('GET', `/users?${azFilter("userPrincipalName eq 'someone@example.com'")}`);
    assert.equal(users.status, 200);
    assert.deepEqual(users.body['value'], []);
    assertGraphError(await graph('POST', '/directoryObjects/getByIds', { body: {} }), 400, 'Request_BadRequest');
  });

  it('filters applications by displayName, appId and identifierUris, and gets, patches and deletes them', async () => {
    const created = (await graph('POST', '/applications', { body: { displayName: "O'Brien app", identifierUris: ['api://obrien'] } })).body;
    const eq = await graph('GET', `/applications?${azFilter("displayName eq 'O''Brien app'")}`);
    assert.deepEqual(eq.body['value'].map((a: Json) => a['id']), [created['id']]);
    const byAppId = await graph('GET', `/applications?${azFilter(`appId eq '${created['appId']}'`)}`);
    assert.deepEqual(byAppId.body['value'].map((a: Json) => a['id']), [created['id']]);
    const byUri = await graph('GET', `/applications?${azFilter("identifierUris/any(s:s eq 'api://obrien')")}`);
    assert.deepEqual(byUri.body['value'].map((a: Json) => a['id']), [created['id']]);
    assertGraphError(await graph('POST', '/applications', { body: { displayName: 'taken', identifierUris: ['api://obrien'] } }), 400, 'Request_BadRequest');

    assert.equal((await graph('PATCH', `/applications/${created['id']}`, { body: { displayName: 'renamed', identifierUris: ['api://renamed'] } })).status, 204);
    const got = await graph('GET', `/applications/${created['id']}`);
    assert.equal(got.body['displayName'], 'renamed');
    assert.deepEqual(got.body['identifierUris'], ['api://renamed']);
    assert.match(got.body['@odata.context'], /#applications\/\$entity$/);

    assert.equal((await graph('DELETE', `/applications/${created['id']}`)).status, 204);
    assertGraphError(await graph('GET', `/applications/${created['id']}`), 404, 'Request_ResourceNotFound');
    assertGraphError(await graph('DELETE', `/applications/${created['id']}`), 404, 'Request_ResourceNotFound');
  });

  it('pages with $top and an absolute @odata.nextLink that keeps the filter', async () => {
    for (let i = 0; i < 5; i++) await graph('POST', '/applications', { body: { displayName: `paged-${i}` } });
    const seen: string[] = [];
    let next: string | undefined = `/applications?${azFilter("startswith(displayName,'paged-')")}&$top=2`;
    let pages = 0;
    while (next) {
      const page = await graph('GET', next);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      seen.push(...page.body['value'].map((a: Json) => a['displayName']));
      next = page.body['@odata.nextLink'];
      if (next) assert.ok(next.startsWith(`${url}/v1.0/applications?$filter=`), next);
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), ['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4']);
    assertGraphError(await graph('GET', '/applications?$top=0'), 400, 'Request_BadRequest');
    for (const token of ['garbage', Buffer.from('not-an-id').toString('base64url')]) {
      assertGraphError(await graph('GET', `/applications?$skiptoken=${token}`), 400, 'Request_BadRequest');
    }
  });

  it('adds and removes service principal passwords, and deletes service principals', async () => {
    const app = (await graph('POST', '/applications', { body: { displayName: 'sp-passwords' } })).body;
    const sp = (await graph('POST', '/servicePrincipals', { body: { appId: app['appId'] } })).body;
    const added = await graph('POST', `/servicePrincipals/${sp['id']}/addPassword`, { body: {} });
    assert.equal(added.status, 200);
    const tenant = server.app.identity.defaultTenantId;
    const form = { grant_type: 'client_credentials', client_id: app['appId'], client_secret: added.body['secretText'], scope: 'https://management.azure.com/.default' };
    assert.equal((await postForm(`${url}/${tenant}/oauth2/v2.0/token`, form)).status, 200);
    assert.equal((await graph('GET', `/servicePrincipals/${sp['id']}`)).body['passwordCredentials'].length, 1);
    assert.equal((await graph('POST', `/servicePrincipals/${sp['id']}/removePassword`, { body: { keyId: added.body['keyId'] } })).status, 204);
    assert.equal((await postForm(`${url}/${tenant}/oauth2/v2.0/token`, form)).status, 401);
    assertGraphError(await graph('POST', `/servicePrincipals/${sp['id']}/removePassword`, { body: { keyId: added.body['keyId'] } }), 404, 'Request_ResourceNotFound');
    assertGraphError(await graph('POST', '/servicePrincipals', { body: { appId: app['appId'] } }), 409, 'Request_MultipleObjectsWithSameKeyValue');
    assert.equal((await graph('DELETE', `/servicePrincipals/${sp['id']}`)).status, 204);
    assertGraphError(await graph('GET', `/servicePrincipals/${sp['id']}`), 404, 'Request_ResourceNotFound');
    const missing = await graph('POST', '/servicePrincipals', { body: { appId: '7d3c1b2a-0000-4000-8000-000000000000' } });
    assertGraphError(missing, 400, 'Request_BadRequest');
    assert.match(missing.body['error'].message, / does not reference /);
  });

  it('needs a Graph token: none, a resource-manager token and a forged one are InvalidAuthenticationToken', async () => {
    const none = await graph('GET', '/applications', { token: null });
    assertGraphError(none, 401, 'InvalidAuthenticationToken');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    const arm = await accessToken(url, server.app.identity.defaultTenantId, admin, 'https://management.azure.com/');
    assertGraphError(await graph('GET', '/applications', { token: arm }), 401, 'InvalidAuthenticationToken');
    assertGraphError(await graph('GET', '/applications', { token: `${adminToken.slice(0, -4)}AAAA` }), 401, 'InvalidAuthenticationToken');
    const publicGraph = await accessToken(url, server.app.identity.defaultTenantId, admin, 'https://graph.microsoft.com/');
    assert.equal((await graph('GET', '/applications', { token: publicGraph })).status, 200);
  });

  it('lets a cluster identity read but not write: Authorization_RequestDenied', async () => {
    assert.equal((await graph('GET', '/servicePrincipals', { token: clusterToken })).status, 200);
    assertGraphError(await graph('POST', '/applications', { token: clusterToken, body: { displayName: 'nope' } }), 403, 'Authorization_RequestDenied');
    const target = (await graph('POST', '/applications', { body: { displayName: 'protected' } })).body;
    assertGraphError(await graph('POST', `/applications/${target['id']}/addPassword`, { token: clusterToken, body: {} }), 403, 'Authorization_RequestDenied');
    assertGraphError(await graph('DELETE', `/applications/${target['id']}`, { token: clusterToken }), 403, 'Authorization_RequestDenied');
  });

  it('answers /me for an application token as Graph does, and client mistakes with 4xx', async () => {
    assertGraphError(await graph('GET', '/me'), 400, 'BadRequest');
    assertGraphError(await graph('GET', '/me/ownedObjects'), 400, 'BadRequest');
    assertGraphError(await graph('GET', '/applications/not-a-guid'), 400, 'Request_BadRequest');
    assertGraphError(await graph('GET', `/applications?${azFilter("tags/any(t:t eq 'x')")}`), 400, 'Request_UnsupportedQuery');
    assertGraphError(await graph('GET', `/applications?${azFilter('displayName gt 1')}`), 400, 'BadRequest');
    assertGraphError(await graph('GET', '/groups'), 400, 'BadRequest');
    assertGraphError(await graph('PUT', '/applications'), 405, 'Request_BadRequest');
    assertGraphError(await graph('POST', '/applications', { body: {} }), 400, 'Request_BadRequest');
    assertGraphError(await graph('POST', '/applications', { body: { displayName: 7 } }), 400, 'Request_BadRequest');
    assertGraphError(await graph('POST', '/applications', { body: { displayName: 'x', signInAudience: 'Everyone' } }), 400, 'Request_BadRequest');
    const app = (await graph('POST', '/applications', { body: { displayName: 'dates' } })).body;
    assertGraphError(await graph('POST', `/applications/${app['id']}/addPassword`, { body: { passwordCredential: { endDateTime: 'soon' } } }), 400, 'Request_BadRequest');
    for (const endDateTime of ['+275760-09-13T00:00:00Z', 42]) {
      assertGraphError(await graph('POST', `/applications/${app['id']}/addPassword`, { body: { passwordCredential: { endDateTime } } }), 400, 'Request_BadRequest');
    }
    const broken = await fetch(`${url}/v1.0/applications`, { method: 'POST', headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' }, body: '{"displayName":' });
    assertGraphError({ status: broken.status, body: (await broken.json()) as Json }, 400, 'BadRequest');
  });
});
