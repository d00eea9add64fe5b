import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postForm } from '../../helpers/identity.js';
import { basic, bearer, jwtPayload } from '../../helpers/registry-auth.js';
import { RegistryClient } from '../../helpers/registry-client.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/** The challenges and the token endpoints, to the byte where clients parse them. */
describe('registry token service: challenges and /oauth2 endpoints', () => {
  let server: TestServer;
  let host: string;
  let admin: string;

  before(async () => {
    server = await startTestServer({ anonymousPull: false });
    host = new URL(server.registryUrl).host;
    admin = basic(server.credentials.username, server.credentials.password);
    await new RegistryClient(server.registryUrl).pushImage('app', 'v1');
  });
  after(() => server.close());

  const anonymous = (path: string, method = 'GET') => fetch(`${server.registryUrl}${path}`, { method });

  describe('401 challenges', () => {
    it('GET /v2/ without credentials: realm and service only, no spaces after commas, ACR\'s error JSON', async () => {
      const res = await anonymous('/v2/');
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), `Bearer realm="http://${host}/oauth2/token",service="${host}"`);
      assert.equal(await res.text(), '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required: no credentials were presented"}]}');
    });

    const cases: Array<{ method: string; path: string; scope: string }> = [
      { method: 'GET', path: '/v2/app/manifests/v1', scope: 'repository:app:pull' },
      { method: 'HEAD', path: '/v2/app/manifests/v1', scope: 'repository:app:pull' },
      { method: 'GET', path: '/v2/team/app/tags/list', scope: 'repository:team/app:pull' },
      { method: 'POST', path: '/v2/app/blobs/uploads/', scope: 'repository:app:pull,push' },
      { method: 'PUT', path: '/v2/app/manifests/v2', scope: 'repository:app:pull,push' },
      { method: 'DELETE', path: '/v2/app/manifests/v1', scope: 'repository:app:delete' },
      { method: 'POST', path: '/v2/app/blobs/uploads/?mount=sha256:0000000000000000000000000000000000000000000000000000000000000000&from=base/img', scope: 'repository:app:pull,push repository:base/img:pull' },
      { method: 'GET', path: '/v2/_catalog', scope: 'registry:catalog:*' },
      { method: 'GET', path: '/acr/v1/_catalog', scope: 'registry:catalog:*' },
      { method: 'GET', path: '/acr/v1/app/_tags', scope: 'repository:app:metadata_read' },
      { method: 'PATCH', path: '/acr/v1/app', scope: 'repository:app:metadata_write' },
      { method: 'DELETE', path: '/acr/v1/app/_tags/v1', scope: 'repository:app:delete' },
    ];
    for (const c of cases) {
      it(`${c.method} ${c.path.split('?')[0]}${c.path.includes('mount') ? ' (mount)' : ''}: scope="${c.scope}"`, async () => {
        const res = await anonymous(c.path, c.method);
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('www-authenticate'), `Bearer realm="http://${host}/oauth2/token",service="${host}",scope="${c.scope}"`);
        if (c.method === 'HEAD') return;
        const detail = c.scope.split(' ').flatMap((s) => {
          const [type, name, actions] = [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1, s.lastIndexOf(':')), s.slice(s.lastIndexOf(':') + 1)];
          return actions.split(',').map((action) => ({ Type: type, Name: name, Action: action }));
        });
        const body = await res.json() as { errors: Array<{ code: string; message: string; detail: unknown }> };
        assert.equal(body.errors[0]!.code, 'UNAUTHORIZED');
        assert.deepEqual(body.errors[0]!.detail, detail);
      });
    }
  });

  describe('POST /oauth2/token', () => {
    it('answers access_token, token, expires_in and issued_at, in that order', async () => {
      const before = Date.now();
      const res = await fetch(`${server.registryUrl}/oauth2/token?api-version=2021-07-01`, {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: new URLSearchParams({
          grant_type: 'password', service: host, client_id: 'containerd-client', username: server.credentials.username,
          password: server.credentials.password, scope: 'repository:app:pull',
        }).toString(),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = await res.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['access_token', 'token', 'expires_in', 'issued_at']);
      assert.equal(body['access_token'], body['token']);
      assert.equal(body['expires_in'], 300);
      assert.ok(Date.parse(body['issued_at'] as string) >= Math.floor(before / 1000) * 1000);
      const claims = jwtPayload(body['access_token'] as string);
      assert.deepEqual({ iss: claims['iss'], aud: claims['aud'], sub: claims['sub'], grant_type: claims['grant_type'], version: claims['version'], access: claims['access'] },
        { iss: 'Azure Container Registry', aud: host, sub: 'testregistry', grant_type: 'access_token', version: '1.0', access: [{ type: 'repository', name: 'app', actions: ['pull'] }] });
      const header = JSON.parse(Buffer.from((body['access_token'] as string).split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
      assert.equal(header['alg'], 'ES256');
      assert.equal(typeof header['kid'], 'string');
    });

    it('takes scope repeated and space-separated, merges them, and ignores what it does not know', async () => {
      const { status, body } = await postForm(`${server.registryUrl}/oauth2/token`, [
        ['grant_type', 'password'], ['service', host], ['username', server.credentials.username], ['password', server.credentials.password],
        ['scope', 'repository:app:pull repository:app:push'], ['scope', 'registry:catalog:*'], ['scope', 'repository:other:delete,deleted_read'],
        ['scope', 'nonsense'], ['access_type', 'online'], ['account', 'x'], ['client_id', 'docker'],
      ]);
      assert.equal(status, 200);
      assert.deepEqual(jwtPayload(body['access_token'] as string)['access'], [
        { type: 'repository', name: 'app', actions: ['pull', 'push'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
        { type: 'repository', name: 'other', actions: ['delete'] },
      ]);
    });

    it('gives a refresh token with access_type=offline, and the refresh grant answers with it', async () => {
      const first = await postForm(`${server.registryUrl}/oauth2/token`, {
        grant_type: 'password', service: host, username: server.credentials.username, password: server.credentials.password, access_type: 'offline', scope: 'repository:app:pull',
      });
      const refreshToken = first.body['refresh_token'] as string;
      assert.equal(jwtPayload(refreshToken)['grant_type'], 'refresh_token');
      const second = await postForm(`${server.registryUrl}/oauth2/token`, { grant_type: 'refresh_token', service: host, refresh_token: refreshToken, scope: 'repository:app:pull' });
      assert.equal(second.status, 200);
      assert.deepEqual(Object.keys(second.body), ['access_token', 'token', 'expires_in', 'issued_at', 'refresh_token']);
      assert.equal(second.body['refresh_token'], refreshToken);
    });

    const refusals: Array<{ what: string; form: Record<string, string>; status: number; code: string }> = [
      { what: 'an unknown grant type', form: { grant_type: 'client_credentials' }, status: 400, code: 'UNSUPPORTED' },
      { what: 'a POST without grant_type', form: { scope: 'repository:app:pull' }, status: 400, code: 'UNSUPPORTED' },
      { what: 'more scopes than fit in a header', form: { grant_type: 'password', scope: Array.from({ length: 33 }, (_, i) => `repository:r${i}:pull`).join(' ') }, status: 400, code: 'UNSUPPORTED' },
      { what: 'a refresh grant without a refresh token', form: { grant_type: 'refresh_token' }, status: 400, code: 'UNSUPPORTED' },
      { what: 'a refresh token that is not one', form: { grant_type: 'refresh_token', refresh_token: 'garbage' }, status: 401, code: 'UNAUTHORIZED' },
      { what: 'an unknown username', form: { grant_type: 'password', username: 'someone', password: 'x' }, status: 401, code: 'UNAUTHORIZED' },
      { what: 'an unknown application id', form: { grant_type: 'password', username: '11111111-2222-3333-4444-555555555555', password: 'x' }, status: 401, code: 'UNAUTHORIZED' },
      { what: 'another registry as service', form: { grant_type: 'password', service: 'elsewhere.example', username: 'testregistry', password: 'x' }, status: 401, code: 'UNAUTHORIZED' },
    ];
    for (const r of refusals) {
      it(`refuses ${r.what}: ${r.status} ${r.code}`, async () => {
        const { status, body, headers } = await postForm(`${server.registryUrl}/oauth2/token`, { service: host, ...r.form });
        assert.equal(status, r.status);
        assert.equal(headers.get('allow'), null, 'Allow belongs to 405 only');
        assert.equal((body['errors'] as Array<{ code: string; message: string }>)[0]!.code, r.code);
      });
    }
  });

  describe('GET /oauth2/token', () => {
    it('takes Basic credentials as docker login sends them, with a refresh token for offline_token=true', async () => {
      const res = await fetch(`${server.registryUrl}/oauth2/token?account=testregistry&client_id=docker&offline_token=true&service=${host}`, { headers: { Authorization: admin } });
      assert.equal(res.status, 200);
      const body = await res.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['access_token', 'token', 'expires_in', 'issued_at', 'refresh_token']);
      assert.deepEqual(jwtPayload(body['access_token'] as string)['access'], []);
      const scoped = await fetch(`${server.registryUrl}/oauth2/token?service=${host}&scope=repository:app:pull&scope=repository:app:push`, { headers: { Authorization: admin } });
      const token = ((await scoped.json()) as { token: string }).token;
      assert.deepEqual(jwtPayload(token)['access'], [{ type: 'repository', name: 'app', actions: ['pull', 'push'] }]);
      assert.equal((await fetch(`${server.registryUrl}/v2/app/manifests/v1`, { headers: { Authorization: bearer(token) } })).status, 200);
    });

    it('without credentials, on a registry without anonymous pull, issues a token that grants nothing', async () => {
      const res = await fetch(`${server.registryUrl}/oauth2/token?service=${host}&scope=repository:app:pull`);
      assert.equal(res.status, 200);
      const token = ((await res.json()) as { token: string }).token;
      assert.deepEqual(jwtPayload(token)['access'], []);
      assert.equal((await fetch(`${server.registryUrl}/v2/app/manifests/v1`, { headers: { Authorization: bearer(token) } })).status, 401);
    });
  });

  describe('POST /oauth2/exchange', () => {
    const refusals: Array<{ what: string; form: Record<string, string>; status: number; code: string }> = [
      { what: 'an unknown grant type', form: { grant_type: 'password', access_token: 'x' }, status: 400, code: 'UNSUPPORTED' },
      { what: 'no access token', form: { grant_type: 'access_token' }, status: 400, code: 'UNSUPPORTED' },
      { what: 'an access token that is not one', form: { grant_type: 'access_token', access_token: 'garbage' }, status: 401, code: 'UNAUTHORIZED' },
      { what: 'the older grant type with an empty access token', form: { grant_type: 'access_token_refresh_token', access_token: '' }, status: 400, code: 'UNSUPPORTED' },
    ];
    for (const r of refusals) {
      it(`refuses ${r.what}: ${r.status} ${r.code}`, async () => {
        const { status, body } = await postForm(`${server.registryUrl}/oauth2/exchange?api-version=2021-07-01`, { service: host, ...r.form });
        assert.equal(status, r.status, JSON.stringify(body));
        assert.equal((body['errors'] as Array<{ code: string }>)[0]!.code, r.code);
      });
    }

    it('is POST only', async () => {
      const res = await fetch(`${server.registryUrl}/oauth2/exchange`);
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'POST');
    });
  });

  describe('anonymous pull', () => {
    let open: TestServer;
    before(async () => {
      open = await startTestServer({ anonymousPull: true, registryName: 'openregistry' });
      await new RegistryClient(open.registryUrl).pushImage('app', 'v1');
    });
    after(() => open.close());

    it('serves pulls without credentials, and refuses pushes and deletes', async () => {
      assert.equal((await fetch(`${open.registryUrl}/v2/app/manifests/v1`)).status, 200);
      assert.equal((await fetch(`${open.registryUrl}/v2/app/tags/list`)).status, 200);
      assert.equal((await fetch(`${open.registryUrl}/v2/app/blobs/uploads/`, { method: 'POST' })).status, 401);
      assert.equal((await fetch(`${open.registryUrl}/v2/app/manifests/v1`, { method: 'DELETE' })).status, 401);
      assert.equal((await fetch(`${open.registryUrl}/v2/_catalog`)).status, 401);
      // /v2/ still challenges, so that clients learn where to get tokens.
      assert.equal((await fetch(`${open.registryUrl}/v2/`)).status, 401);
    });

    it('issues anonymous tokens with pull only: GET without credentials, and the SDK\'s password grant with an empty refresh token', async () => {
      const openHost = new URL(open.registryUrl).host;
      const get = await fetch(`${open.registryUrl}/oauth2/token?service=${openHost}&scope=repository:app:pull,push`);
      assert.deepEqual(jwtPayload(((await get.json()) as { token: string }).token)['access'], [{ type: 'repository', name: 'app', actions: ['pull'] }]);
      const { status, body } = await postForm(`${open.registryUrl}/oauth2/token`, { service: openHost, scope: 'repository:app:pull', refresh_token: '', grant_type: 'password' });
      assert.equal(status, 200);
      const token = body['access_token'] as string;
      assert.equal(jwtPayload(token)['sub'], 'anonymous');
      assert.equal((await fetch(`${open.registryUrl}/v2/app/manifests/v1`, { headers: { Authorization: bearer(token) } })).status, 200);
    });
  });
});
