import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { AUDIENCES } from '../../src/identity/types.js';
import { createClusterIdentity, postForm, type TestPrincipal } from '../helpers/identity.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Entra ID's error body: `error`, an AADSTS code in the description and in `error_codes`, and the ids. */
function assertAadError(body: Record<string, unknown>, error: string, code: number): void {
  assert.equal(body['error'], error, JSON.stringify(body));
  assert.match(String(body['error_description']), new RegExp(`^AADSTS${code}: `));
  assert.deepEqual(body['error_codes'], [code]);
  for (const field of ['timestamp', 'trace_id', 'correlation_id']) assert.equal(typeof body[field], 'string', field);
}

describe('identity plane over HTTP', () => {
  let server: TestServer;
  let url: string;
  let tenant: string;
  let client: TestPrincipal;

  before(async () => {
    server = await startTestServer();
    url = server.config.publicUrl;
    tenant = server.app.identity.defaultTenantId;
    client = await createClusterIdentity(server.app, 'http-client');
  });
  after(() => server.close());

  const credentials = () => ({ grant_type: 'client_credentials', client_id: client.principal.appId, client_secret: client.password.secretText });

  describe('token endpoint', () => {
    it('v2: scope <resource>/.default, stripping only the final /.default, with a numeric expires_in', async () => {
      const { status, body } = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, {
        ...credentials(), scope: 'https://management.core.windows.net//.default', client_info: '1',
        claims: '{"access_token": {"xms_cc": {"values": ["CP1"]}}}',
      });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body['token_type'], 'Bearer');
      assert.equal(typeof body['expires_in'], 'number');
      assert.equal(typeof body['ext_expires_in'], 'number');
      const token = body['access_token'] as string;
      assert.equal(decodeJwt(token).aud, 'https://management.core.windows.net/');
      assert.equal(decodeJwt(token).iss, `${url}/${tenant}/v2.0`);
      const verified = await server.app.identity.verifyAccessToken(token, AUDIENCES.arm);
      assert.equal(verified.principal.appId, client.principal.appId);
    });

    it('v2 with HTTP Basic client authentication and the organizations tenant', async () => {
      const basic = Buffer.from(`${encodeURIComponent(client.principal.appId)}:${encodeURIComponent(client.password.secretText)}`).toString('base64');
      const { status, body } = await postForm(`${url}/organizations/oauth2/v2.0/token`,
        { grant_type: 'client_credentials', scope: 'https://containerregistry.azure.net/.default' }, { Authorization: `Basic ${basic}` });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(decodeJwt(body['access_token'] as string).aud, 'https://containerregistry.azure.net');
    });

    it('v1: resource=, with the v1 issuer, and the ADFS authority', async () => {
      const v1 = await postForm(`${url}/${tenant}/oauth2/token`, { ...credentials(), resource: 'https://management.azure.com/' });
      assert.equal(v1.status, 200, JSON.stringify(v1.body));
      assert.equal(v1.body['resource'], 'https://management.azure.com/');
      assert.equal(typeof v1.body['expires_on'], 'number');
      assert.equal(decodeJwt(v1.body['access_token'] as string).iss, `${url}/${tenant}/`);
      assert.equal(decodeJwt(v1.body['access_token'] as string).ver, '1.0');
      const adfs = await postForm(`${url}/adfs/oauth2/token`, { ...credentials(), scope: 'https://management.core.windows.net//.default' });
      assert.equal(adfs.status, 200, JSON.stringify(adfs.body));
      assert.equal(decodeJwt(adfs.body['access_token'] as string).iss, `${url}/adfs`);
      const adfsResource = await postForm(`${url}/adfs/oauth2/token`, { ...credentials(), resource: `${url}/` });
      assert.equal(adfsResource.status, 200, JSON.stringify(adfsResource.body));
    });

    it('a wrong secret is invalid_client AADSTS7000215 (401)', async () => {
      const { status, body } = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { ...credentials(), client_secret: 'wrong', scope: 'https://management.azure.com/.default' });
      assert.equal(status, 401);
      assertAadError(body, 'invalid_client', 7000215);
    });

    it('an unknown application is unauthorized_client AADSTS700016 (400)', async () => {
      const { status, body } = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { ...credentials(), client_id: '5b0a5f1c-0000-4000-8000-000000000000', scope: 'https://management.azure.com/.default' });
      assert.equal(status, 400);
      assertAadError(body, 'unauthorized_client', 700016);
    });

    it('an expired secret is invalid_client AADSTS7000222', async () => {
      const directory = server.app.identity.directory(tenant);
      const app = (await directory.listApplications({ top: 1, filter: { appId: client.principal.appId } })).items[0]!;
      const old = await directory.addPassword({ kind: 'application', id: app.id }, { startDateTime: '2020-01-01T00:00:00Z', endDateTime: '2021-01-01T00:00:00Z' });
      const { status, body } = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { ...credentials(), client_secret: old.secretText, scope: 'https://management.azure.com/.default' });
      assert.equal(status, 401);
      assertAadError(body, 'invalid_client', 7000222);
    });

    it('a missing secret, client_id, grant_type or scope, and other grants, are refused', async () => {
      const scope = 'https://management.azure.com/.default';
      const noSecret = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { grant_type: 'client_credentials', client_id: client.principal.appId, scope });
      assert.equal(noSecret.status, 401);
      assertAadError(noSecret.body, 'invalid_client', 7000218);
      const noClient = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { grant_type: 'client_credentials', client_secret: 'x', scope });
      assert.equal(noClient.status, 400);
      assertAadError(noClient.body, 'invalid_request', 900144);
      const noGrant = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { client_id: client.principal.appId, scope });
      assertAadError(noGrant.body, 'invalid_request', 900144);
      const noScope = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, credentials());
      assert.equal(noScope.status, 400);
      assertAadError(noScope.body, 'invalid_request', 900144);
      const noResource = await postForm(`${url}/${tenant}/oauth2/token`, credentials());
      assertAadError(noResource.body, 'invalid_request', 900144);
      const password = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { ...credentials(), grant_type: 'password', scope });
      assert.equal(password.status, 400);
      assertAadError(password.body, 'unsupported_grant_type', 70003);
      const c = credentials();
      for (const twice of ['client_secret', 'grant_type'] as const) {
        const form: Array<[string, string]> = [...Object.entries({ ...c, scope }), [twice, twice === 'grant_type' ? 'password' : 'another']];
        const duplicated = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, form);
        assert.equal(duplicated.status, 400, twice);
        assertAadError(duplicated.body, 'invalid_request', 9000411);
        assert.match(duplicated.body['error_description'] as string, new RegExp(`'${twice}' is duplicated`));
      }
      const { client_secret: _, ...withoutSecret } = c;
      const assertion = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { ...withoutSecret, scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'eyJ.x.y' });
      assert.equal(assertion.status, 401);
      assertAadError(assertion.body, 'invalid_client', 7000218);
      assert.match(assertion.body['error_description'] as string, /client_assertion\) are not supported here/);
      const both = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { ...c, scope, resource: 'https://management.azure.com/' });
      assertAadError(both.body, 'invalid_request', 901002);
    });

    it('a scope without /.default, two resources, or an unknown resource are refused', async () => {
      const noDefault = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { ...credentials(), scope: 'https://management.azure.com/user_impersonation' });
      assert.equal(noDefault.status, 400);
      assertAadError(noDefault.body, 'invalid_scope', 1002012);
      const two = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { ...credentials(), scope: 'https://management.azure.com/.default https://graph.microsoft.com/.default' });
      assertAadError(two.body, 'invalid_scope', 70011);
      const unknown = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { ...credentials(), scope: 'https://vault.azure.net/.default' });
      assert.equal(unknown.status, 400);
      assertAadError(unknown.body, 'invalid_resource', 500011);
    });

    it('an unknown tenant, a GET and a JSON body are refused as Entra ID does', async () => {
      const scope = 'https://management.azure.com/.default';
      const tenantless = await postForm(`${url}/6c1bd1a0-0000-4000-8000-000000000000/oauth2/v2.0/token`, { ...credentials(), scope });
      assert.equal(tenantless.status, 400);
      assertAadError(tenantless.body, 'invalid_request', 90002);
      const get = await fetch(`${url}/${tenant}/oauth2/v2.0/token`);
      assert.equal(get.status, 400);
      assertAadError((await get.json()) as Record<string, unknown>, 'invalid_request', 900561);
      const preflight = await fetch(`${url}/${tenant}/oauth2/v2.0/token`, { method: 'OPTIONS' });
      assert.equal(preflight.status, 204, 'OPTIONS is one of the methods the endpoint names');
      assert.equal(preflight.headers.get('allow'), 'POST, OPTIONS');
      const json = await fetch(`${url}/${tenant}/oauth2/v2.0/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...credentials(), scope }) });
      assert.equal(json.status, 400);
      assertAadError((await json.json()) as Record<string, unknown>, 'invalid_request', 900144);
    });

    it('echoes the client-request-id as the correlation id', async () => {
      const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
      const { body } = await postForm(`${url}/${tenant}/oauth2/v2.0/token`, { ...credentials(), client_secret: 'wrong', scope: 'https://management.azure.com/.default' }, { 'client-request-id': id });
      assert.equal(body['correlation_id'], id);
    });
  });

  describe('discovery', () => {
    const getJson = async (path: string) => {
      const res = await fetch(`${url}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    it('tenant v2 discovery names this tenant\'s token endpoint, issuer and keys', async () => {
      const { status, body } = await getJson(`/${tenant}/v2.0/.well-known/openid-configuration`);
      assert.equal(status, 200);
      assert.equal(body['issuer'], `${url}/${tenant}/v2.0`);
      assert.equal(body['token_endpoint'], `${url}/${tenant}/oauth2/v2.0/token`);
      assert.equal(body['authorization_endpoint'], `${url}/${tenant}/oauth2/v2.0/authorize`);
      const keys = await getJson(new URL(body['jwks_uri'] as string).pathname);
      assert.equal(keys.status, 200);
      const kids = (keys.body['keys'] as Array<{ kid: string; kty: string; alg: string }>).map((k) => k.kid);
      const token = await server.app.identity.issueAccessToken(client.principal, AUDIENCES.arm[0]);
      assert.ok(kids.includes(decodeProtectedHeader(token.accessToken).kid!));
    });

    it('v1, organizations and ADFS discovery documents', async () => {
      const v1 = await getJson(`/${tenant}/.well-known/openid-configuration`);
      assert.equal(v1.body['issuer'], `${url}/${tenant}/`);
      assert.equal(v1.body['token_endpoint'], `${url}/${tenant}/oauth2/token`);
      const organizations = await getJson('/organizations/v2.0/.well-known/openid-configuration');
      assert.equal(organizations.body['issuer'], `${url}/{tenantid}/v2.0`);
      assert.equal(organizations.body['token_endpoint'], `${url}/organizations/oauth2/v2.0/token`);
      const adfs = await getJson('/adfs/.well-known/openid-configuration');
      assert.equal(adfs.status, 200);
      assert.equal(adfs.body['issuer'], `${url}/adfs`);
      assert.equal(adfs.body['token_endpoint'], `${url}/adfs/oauth2/token`);
      const adfsKeys = await getJson(new URL(adfs.body['jwks_uri'] as string).pathname);
      assert.ok((adfsKeys.body['keys'] as unknown[]).length >= 1);
    });

    it('an unknown tenant is invalid_tenant AADSTS90002', async () => {
      const { status, body } = await getJson('/6c1bd1a0-0000-4000-8000-000000000000/v2.0/.well-known/openid-configuration');
      assert.equal(status, 400);
      assertAadError(body, 'invalid_tenant', 90002);
    });

    it('answers MSAL instance discovery with this server as the authority host', async () => {
      const authorize = encodeURIComponent(`${url}/${tenant}/oauth2/v2.0/authorize`);
      const { status, body } = await getJson(`/common/discovery/instance?api-version=1.1&authorization_endpoint=${authorize}`);
      assert.equal(status, 200);
      assert.equal(body['tenant_discovery_endpoint'], `${url}/${tenant}/v2.0/.well-known/openid-configuration`);
      const host = new URL(url).host;
      assert.deepEqual((body['metadata'] as Array<{ aliases: string[] }>)[0]!.aliases, [host]);
      const invalid = await getJson('/common/discovery/instance?api-version=1.1');
      assert.equal(invalid.status, 400);
      assertAadError(invalid.body, 'invalid_instance', 50049);
    });
  });
});
