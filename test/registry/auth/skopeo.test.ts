import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certsDir, CommandError, hostOf, memoryLog, pushLayout, run, writeText, type MemoryLog } from '../../helpers/client-tools.js';
import { createClusterIdentity, type TestPrincipal } from '../../helpers/identity.js';
import { buildImageLayout, sha256, type ImageLayout } from '../../helpers/oci-image.js';
import { assignRole, createPlacedRegistry, NULL_GUID } from '../../helpers/registry-auth.js';
import { startTestServer, useAdminUser, type TestServer } from '../../helpers/server.js';

/**
 * skopeo pulls with the credentials each of the seed's flows produces, passed with --creds as a pull secret or
 * the kubelet credential provider would hand them over: an application id with its secret, and the null-GUID
 * username with a registry refresh token from /oauth2/exchange.
 */
describe('skopeo pulls with the credentials of each seed flow', () => {
  let server: TestServer;
  let log: MemoryLog;
  let work: string;
  let layout: ImageLayout;
  let host: string;
  let certDir: string;
  let common: string[];
  let env: NodeJS.ProcessEnv;
  let puller: TestPrincipal;

  const pull = (creds: string, into: string) => run('skopeo', [...common, 'copy', '--src-cert-dir', certDir, '--src-creds', creds,
    `docker://${host}/app:v1`, `dir:${join(work, into)}`], { env, serverLog: log });

  before(async () => {
    log = memoryLog();
    server = await startTestServer({ tls: true, anonymousPull: false, logger: log.logger });
    const placed = await createPlacedRegistry(server.app, 'skopeoregistry', 'https');
    await useAdminUser(server.app, placed.registry, placed.url);
    layout = await buildImageLayout({ tag: 'v1' });
    await pushLayout(placed.url, server.caPath!, 'app', layout);
    puller = await createClusterIdentity(server.app, 'skopeo-puller');
    await assignRole(server.app, puller.principal.objectId, 'acrPull', placed.registry.resourceId!);

    work = await mkdtemp(join(tmpdir(), 'anchorage-skopeo-auth-'));
    host = hostOf(placed.url);
    certDir = await certsDir(join(work, 'certs.d'), host, server.caPath!);
    const policy = await writeText(join(work, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    const registriesConf = await writeText(join(work, 'registries.conf'), 'unqualified-search-registries = []\n');
    await writeText(join(work, 'registries.d', 'default.yaml'), 'default-docker: {}\n');
    common = ['--policy', policy, '--registries.d', join(work, 'registries.d')];
    // Only what --creds gives: an empty auth file keeps the host's out.
    await writeText(join(work, 'auth.json'), JSON.stringify({ auths: {} }));
    env = { CONTAINERS_REGISTRIES_CONF: registriesConf, REGISTRY_AUTH_FILE: join(work, 'auth.json') };
  });

  after(async () => {
    await server?.close();
    await layout?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** skopeo's dir: transport keeps the manifest as manifest.json and each blob under its hex digest. */
  const assertPulled = async (into: string): Promise<void> => {
    const files = await readdir(join(work, into));
    assert.equal(sha256(await readFile(join(work, into, 'manifest.json'))), layout.top.digest);
    for (const d of [layout.images[0]!.config.digest, ...layout.images[0]!.layers.map((l) => l.digest)]) {
      assert.ok(files.includes(d.slice('sha256:'.length)), `${d} in ${files.join(', ')}`);
    }
  };

  it('flow 2: the application id and its secret (what an image pull secret holds)', async () => {
    await pull(`${puller.principal.appId}:${puller.password.secretText}`, 'flow2');
    await assertPulled('flow2');
  });

  it('flow 1: 00000000-0000-0000-0000-000000000000 and the refresh token /oauth2/exchange gives for the identity\'s token', async () => {
    // The identity's token and the exchange as the credential provider makes them, over HTTPS with the local CA.
    const token = await run('curl', ['-sS', '--cacert', server.caPath!, `${server.config.publicUrl}/${server.app.identity.defaultTenantId}/oauth2/v2.0/token`,
      '--data-urlencode', 'grant_type=client_credentials', '--data-urlencode', `client_id=${puller.principal.appId}`,
      '--data-urlencode', `client_secret=${puller.password.secretText}`, '--data-urlencode', 'scope=https://containerregistry.azure.net/.default']);
    const aad = (JSON.parse(token.stdout) as { access_token: string }).access_token;
    const { stdout } = await run('curl', ['-sS', '--cacert', server.caPath!, '-X', 'POST', `https://${host}/oauth2/exchange`,
      '--data-urlencode', 'grant_type=access_token', '--data-urlencode', `service=${host}`, '--data-urlencode', `access_token=${aad}`]);
    const refreshToken = (JSON.parse(stdout) as { refresh_token: string }).refresh_token;
    assert.ok(refreshToken, stdout);
    await pull(`${NULL_GUID}:${refreshToken}`, 'flow1');
    await assertPulled('flow1');
  });

  it('an identity without a role is refused', async () => {
    const nobody = await createClusterIdentity(server.app, 'skopeo-nobody');
    await assert.rejects(pull(`${nobody.principal.appId}:${nobody.password.secretText}`, 'refused'), (err: unknown) => {
      assert.ok(err instanceof CommandError);
      assert.match(err.stderr, /unauthorized|authentication required/i);
      return true;
    });
  });
});
