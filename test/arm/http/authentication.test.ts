import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startArmTestServer, type ArmTestServer } from '../helpers.js';

describe('resource manager: authentication and the error envelope', () => {
  let s: ArmTestServer;
  before(async () => { s = await startArmTestServer(); });
  after(async () => { await s.close(); });

  const challenge = (r: { headers: Headers }) => r.headers.get('www-authenticate') ?? '';

  it('serves /metadata/endpoints without a token, stray slashes and all', async () => {
    const r = await s.call('GET', '//metadata/endpoints?api-version=2015-01-01', { token: null, apiVersion: null });
    assert.equal(r.status, 200);
    assert.equal(r.json.authentication.loginEndpoint, `${s.config.publicUrl}/adfs`);
    const array = await s.call('GET', '/metadata/endpoints?api-version=2019-05-01', { token: null });
    assert.equal(array.json[0].resourceManager, `${s.config.publicUrl}/`);
  });

  it('refuses a call without a token: 401 AuthenticationFailed with ARM\'s Bearer challenge', async () => {
    const r = await s.call('GET', '/subscriptions', { token: null });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { error: { code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." } });
    assert.match(challenge(r), /^Bearer authorization_uri="[^"]+\/[0-9a-f-]{36}", error="invalid_token", error_description="[^"]+"$/);
  });

  it('refuses a malformed header, a forged token, and a token for another audience', async () => {
    const malformed = await fetch(`${s.url}/subscriptions?api-version=2020-01-01`, { headers: { Authorization: 'Basic abc' } });
    assert.equal(malformed.status, 401);
    assert.equal(((await malformed.json()) as any).error.code, 'AuthenticationFailed');

    const admin = await s.adminToken();
    const [h, p] = admin.split('.');
    const forged = await s.call('GET', '/subscriptions', { token: `${h}.${p}.${'A'.repeat(40)}` });
    assert.equal(forged.status, 401);
    assert.equal(forged.json.error.code, 'InvalidAuthenticationToken');
    assert.match(challenge(forged), /error="invalid_token"/);

    const none = await s.call('GET', '/subscriptions', { token: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.` });
    assert.equal(none.status, 401);

    const graph = await s.token(s.info.admin.appId, s.info.admin.password, 'https://graph.microsoft.com/.default');
    const wrongAudience = await s.call('GET', '/subscriptions', { token: graph });
    assert.equal(wrongAudience.status, 401);
    assert.equal(wrongAudience.json.error.code, 'InvalidAuthenticationTokenAudience');
  });

  it('accepts both ARM audiences az and the SDKs ask for', async () => {
    for (const scope of ['https://management.core.windows.net//.default', 'https://management.azure.com/.default']) {
      const token = await s.token(s.info.admin.appId, s.info.admin.password, scope);
      assert.equal((await s.call('GET', '/subscriptions', { token })).status, 200, scope);
    }
  });

  it('requires an api-version of ARM\'s form (any date), as ARM does', async () => {
    const r = await s.call('GET', '/subscriptions', { apiVersion: null });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'MissingApiVersionParameter');
    assert.equal((await s.call('GET', '/subscriptions', { apiVersion: '1999-01-01-whatever' })).status, 200);
    const garbage = await s.call('GET', '/subscriptions', { apiVersion: 'garbage' });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.error.code, 'InvalidApiVersionParameter');
  });

  it('answers unknown paths, methods and bad bodies in ARM\'s envelope, never a 500', async () => {
    const sub = `/subscriptions/${s.info.subscriptionId}`;
    const unknown = await s.call('GET', `${sub}/providers/Microsoft.Nope/things`);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.error.code, 'InvalidResourceNamespace');
    const type = await s.call('GET', `${sub}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/widgets/x`);
    assert.equal(type.status, 400);
    assert.equal(type.json.error.code, 'InvalidResourceType');
    for (const path of ['/subscriptions/notaguid', '/subscriptions/nope/resourceGroups/x']) {
      const malformed = await s.call('GET', path);
      assert.equal(malformed.status, 400, path);
      assert.equal(malformed.json.error.code, 'InvalidSubscriptionId', path);
    }
    const nothing = await s.call('GET', `${sub}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/x/widgets`);
    assert.equal(nothing.status, 404);
    assert.equal(nothing.json.error.code, 'NotFound');
    const method = await s.call('POST', sub);
    assert.equal(method.status, 405);
    assert.equal(method.json.error.code, 'MethodNotAllowed');
    const bad = await s.call('PUT', `${sub}/resourcegroups/rg1`, { rawBody: '{not json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'InvalidRequestContent');
    const array = await s.call('PUT', `${sub}/resourcegroups/rg1`, { rawBody: '[1,2]' });
    assert.equal(array.json.error.code, 'InvalidRequestContent');
    const bom = await s.call('PUT', `${sub}/resourcegroups/rgbom`, { rawBody: '\uFEFF{"location":"eastus"}' });
    assert.equal(bom.status, 201, 'a UTF-8 byte order mark before the JSON is skipped, as .NET clients may send one');
    const badFilter = await s.call('GET', `${sub}/resources?$filter=${encodeURIComponent("tagName eq 'x'")}`);
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.json.error.code, 'InvalidFilterInQueryString');
    assert.match(unknown.headers.get('x-ms-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});
