import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { chmodSync, symlinkSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { makeNodeConfig } from '../../../src/kube/node-config.js';
import { ROLE_IDS } from '../../../src/rbac/builtin-roles.js';
import { buildImageLayout, type ImageLayout } from '../../helpers/oci-image.js';
import { startContainerdCri, type CriRuntime } from '../cri/containerd-cri.js';
import { startKubeFixture, type KubeFixture } from '../kube-fixture.js';

const PROVIDER = fileURLToPath(new URL('../../../src/cli/credential-provider.js', import.meta.url));
const NULL_GUID = '00000000-0000-0000-0000-000000000000';

/**
 * CredentialProviderResponse as kubernetes/kubelet pkg/apis/credentialprovider/v1/types.go defines it, strict as
 * the kubelet decodes it: no unknown fields, cacheKeyType one of three, cacheDuration a Go duration, each auth
 * entry only username and password.
 */
const V1_RESPONSE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'apiVersion', 'cacheKeyType'],
  properties: {
    kind: { const: 'CredentialProviderResponse' },
    apiVersion: { const: 'credentialprovider.kubelet.k8s.io/v1' },
    cacheKeyType: { enum: ['Image', 'Registry', 'Global'] },
    cacheDuration: { type: 'string', pattern: '^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$' },
    auth: {
      type: 'object',
      additionalProperties: {
        type: 'object', additionalProperties: false,
        properties: { username: { type: 'string' }, password: { type: 'string' } },
      },
    },
  },
} as const;
const validateV1 = new Ajv.default({ strict: true }).compile(V1_RESPONSE_SCHEMA);

interface Run { code: number | null; stdout: string; stderr: string }

describe('anchorage-credential-provider: the kubelet exec protocol against a running server, then CRI PullImage', () => {
  let fx: KubeFixture;
  let image: ImageLayout;
  let azureJson: string;
  let providerBin: string;
  let cri: CriRuntime;

  /** The plugin as the kubelet runs it: <bin-dir>/<name> with the config's args, the request on stdin. */
  const runProvider = (request: unknown, config = azureJson): Promise<Run> => new Promise((resolve, reject) => {
    const child = execFile(providerBin, [config], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
    child.stdin!.end(typeof request === 'string' ? request : JSON.stringify(request));
  });
  const request = (img: string, apiVersion = 'credentialprovider.kubelet.k8s.io/v1') => ({ apiVersion, kind: 'CredentialProviderRequest', image: img });

  before(async () => {
    fx = await startKubeFixture();
    image = await buildImageLayout({ tag: 'v1' });
    await fx.push(image, 'team/app');
    await fx.grantClusterPull();
    azureJson = await fx.writeAzureJson();
    // The kubelet execs <bin-dir>/<provider name>; `npm run build` makes the file executable, plain tsc does not.
    chmodSync(PROVIDER, 0o755);
    mkdirSync(join(fx.work, 'bin'));
    providerBin = join(fx.work, 'bin', 'anchorage-credential-provider');
    symlinkSync(PROVIDER, providerBin);
    const node = await makeNodeConfig(fx.server.app, { cluster: fx.info.demo.cluster, resourceGroup: fx.info.demo.resourceGroup, caCertificate: fx.ca });
    cri = await startContainerdCri(join(fx.work, 'containerd'), node.containerdHosts.map((h) => ({ ...h, caPath: fx.server.caPath! })));
  });

  after(async () => {
    await cri?.stop();
    await image?.remove();
    await fx?.close();
  });

  it('answers a v1 request with the registry refresh token, valid against the v1 schema, cached per registry for half its life', async () => {
    const run = await runProvider(request(`${fx.loginServer}/team/app:v1`));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const response = JSON.parse(run.stdout) as { cacheKeyType: string; cacheDuration: string; auth: Record<string, { username: string; password: string }> };
    assert.ok(validateV1(response), JSON.stringify(validateV1.errors));
    assert.equal(response.cacheKeyType, 'Registry');
    assert.deepEqual(Object.keys(response.auth), [fx.loginServer]);
    const { username, password } = response.auth[fx.loginServer]!;
    assert.equal(username, NULL_GUID);
    const claims = JSON.parse(Buffer.from(password.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number; grant_type?: string };
    const life = claims.exp - Date.now() / 1000;
    const [, h, m] = /^(\d+)h(\d+)m\d+s$/.exec(response.cacheDuration) ?? [];
    const cached = Number(h) * 3600 + Number(m) * 60;
    assert.ok(cached > life * 0.4 && cached <= life * 0.5, `cacheDuration ${response.cacheDuration} is about half of the token's ${Math.round(life)} s`);
  });

  it('the credentials it returned pull the image through containerd\'s CRI PullImage, as the kubelet passes them', async () => {
    const run = await runProvider(request(`${fx.loginServer}/team/app`));
    const { auth } = JSON.parse(run.stdout) as { auth: Record<string, { username: string; password: string }> };
    const version = await cri.version();
    assert.equal(version.runtime_name, 'containerd');
    assert.equal(version.runtime_api_version, 'v1');
    const ref = `${fx.loginServer}/team/app:v1`;
    await assert.rejects(cri.pullImage(ref), (err: Error) => /401 Unauthorized|unexpected status: 401/.test(err.message), 'without credentials the registry refuses the pull');
    const pulled = await cri.pullImage(ref, auth[fx.loginServer]!).catch((err: Error) => assert.fail(`${err.message}\n--- containerd ---\n${cri.log()}`));
    assert.equal(pulled.image_ref, image.images[0]!.config.digest, 'CRI returns the image id: the config digest');
    const listed = (await cri.listImages()).find((i) => i.repo_tags.includes(ref));
    assert.ok(listed, 'CRI ListImages shows the pulled tag');
    assert.deepEqual(listed.repo_digests, [`${fx.loginServer}/team/app@${image.top.digest}`]);
  });

  it('v1beta1 requests get v1beta1 answers (the kubelet refuses any other apiVersion)', async () => {
    const run = await runProvider(request(`${fx.loginServer}/team/app:v1`, 'credentialprovider.kubelet.k8s.io/v1beta1'));
    assert.equal(run.code, 0, run.stderr);
    const response = JSON.parse(run.stdout) as { apiVersion: string; auth: Record<string, unknown> };
    assert.equal(response.apiVersion, 'credentialprovider.kubelet.k8s.io/v1beta1');
    assert.ok(response.auth[fx.loginServer]);
  });

  it('an image of a registry it does not serve gets an empty answer, not cached', async () => {
    for (const img of ['docker.io/library/nginx:1.27', 'nginx', 'quay.io/team/app@sha256:' + 'c'.repeat(64)]) {
      const run = await runProvider(request(img));
      assert.equal(run.code, 0, run.stderr);
      const response = JSON.parse(run.stdout) as Record<string, unknown>;
      assert.ok(validateV1(response), JSON.stringify(validateV1.errors));
      assert.deepEqual(response, { apiVersion: 'credentialprovider.kubelet.k8s.io/v1', kind: 'CredentialProviderResponse', cacheKeyType: 'Registry', cacheDuration: '0s' });
    }
  });

  it('a refresh token is given without AcrPull, but the pull with it is refused: RBAC decides at the registry', async () => {
    const run = await runProvider(request(`${fx.otherLoginServer}/team/app:v1`));
    assert.equal(run.code, 0, run.stderr);
    const { auth } = JSON.parse(run.stdout) as { auth: Record<string, { username: string; password: string }> };
    const other = await buildImageLayout({ tag: 'v1', layers: [{ 'other.txt': 'other registry\n' }] });
    try {
      await fx.push(other, 'team/app', fx.otherLoginServer);
      await assert.rejects(cri.pullImage(`${fx.otherLoginServer}/team/app:v1`, auth[fx.otherLoginServer]!), /401|403|denied|unauthorized/i);
    } finally {
      await other.remove();
    }
  });

  it('a managed identity cluster: the kubelet identity\'s token comes from an IMDS-style endpoint, then the same exchange', async () => {
    const { app } = fx.server;
    const { info } = fx;
    await app.arm.clusters.put(info.subscriptionId, info.demo.resourceGroup, 'miCluster', { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: { dnsPrefix: 'mi' } });
    const kubelet = app.arm.clusters.get(info.subscriptionId, info.demo.resourceGroup, 'miCluster').record.state.kubelet!;
    await app.rbac.createAssignment({ name: randomUUID(), scope: app.arm.registries.resourceIdOf(info.demo.registry)!, roleDefinitionName: ROLE_IDS.acrPull, principalId: kubelet.objectId });
    const files = await makeNodeConfig(app, { cluster: 'miCluster', resourceGroup: info.demo.resourceGroup, caCertificate: fx.ca });
    assert.equal(files.azureJson.useManagedIdentityExtension, true);
    assert.equal(files.azureJson.userAssignedIdentityID, kubelet.clientId);
    // Azure's IMDS protocol (GET ...?api-version=2018-02-01&resource=...&client_id=..., header Metadata: true), answered with the identity plane's token.
    const seen: string[] = [];
    const imds = createServer((req, res) => {
      const url = new URL(req.url!, 'http://imds');
      seen.push(`${req.headers['metadata']} ${url.searchParams.get('resource')} ${url.searchParams.get('client_id')}`);
      void (async () => {
        const principal = await app.identity.principalByAppId(url.searchParams.get('client_id')!);
        if (req.headers['metadata'] !== 'true' || !principal) {
          res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'invalid_request', error_description: 'Required metadata header not specified or identity not found' }));
          return;
        }
        const token = await app.identity.issueAccessToken(principal, url.searchParams.get('resource')!);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: token.accessToken, expires_in: String(token.expiresIn), token_type: 'Bearer' }));
      })();
    });
    await new Promise<void>((resolve) => imds.listen(0, '127.0.0.1', resolve));
    try {
      const config = join(fx.work, 'azure-mi.json');
      await writeFile(config, JSON.stringify({ ...files.azureJson, managedIdentityEndpoint: `http://127.0.0.1:${(imds.address() as { port: number }).port}/metadata/identity/oauth2/token` }));
      const run = await runProvider(request(`${fx.loginServer}/team/app:v1`), config);
      assert.equal(run.code, 0, run.stderr);
      const { auth } = JSON.parse(run.stdout) as { auth: Record<string, { username: string; password: string }> };
      assert.deepEqual(seen, [`true https://containerregistry.azure.net ${kubelet.clientId}`]);
      const pulled = await cri.pullImage(`${fx.loginServer}/team/app@${image.top.digest}`, auth[fx.loginServer]!);
      assert.equal(pulled.image_ref, image.images[0]!.config.digest);
    } finally {
      imds.close();
    }
  });

  it('errors exit 1 with one line on stderr that never holds the secret', async () => {
    const config = JSON.parse(await readFile(azureJson, 'utf8')) as { aadClientSecret: string };
    const wrong = join(fx.work, 'wrong-secret.json');
    await writeFile(wrong, JSON.stringify({ ...config, aadClientSecret: `${config.aadClientSecret}x` }));
    const noUrl = join(fx.work, 'no-url.json');
    await writeFile(noUrl, JSON.stringify({ ...config, activeDirectoryEndpoint: 'login here' }));
    const quoted = join(fx.work, 'quoted-secret.json');
    await writeFile(quoted, JSON.stringify(config).replace(JSON.stringify(config.aadClientSecret), `'${config.aadClientSecret}'`));
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['wrong secret', request(`${fx.loginServer}/team/app:v1`), wrong, /identity plane refused a token .*invalid_client/],
      ['not JSON', '{"apiVersion":', azureJson, /not JSON/],
      ['unknown apiVersion', request('x/y', 'credentialprovider.kubelet.k8s.io/v2'), azureJson, /unsupported apiVersion/],
      ['no config file', request('x/y'), join(fx.work, 'missing.json'), /cannot read .*ENOENT/],
      ['an authority that is not a URL', request('x/y'), noUrl, /activeDirectoryEndpoint "login here" is not an http\(s\) URL/],
      ['a secret the JSON does not quote right', request('x/y'), quoted, /quoted-secret\.json is not valid JSON/],
    ];
    for (const [what, req, file, expected] of cases) {
      const run = await runProvider(req, file);
      assert.equal(run.code, 1, what);
      assert.equal(run.stdout, '', what);
      assert.match(run.stderr, /^anchorage-credential-provider: [^\n]+\n$/, `${what}: one line`);
      assert.match(run.stderr, expected, what);
      assert.ok(!run.stderr.includes(config.aadClientSecret.slice(0, 8)), `${what}: no secret, nor part of it, on stderr`);
    }
  });
});
