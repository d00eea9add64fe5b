import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createClusterIdentity, type TestPrincipal } from '../../helpers/identity.js';
import { assignRole, createPlacedRegistry } from '../../helpers/registry-auth.js';
import { pushLayout } from '../../helpers/client-tools.js';
import { buildImageLayout, type ImageLayout } from '../../helpers/oci-image.js';
import { startTestServer, useAdminUser, type TestServer } from '../../helpers/server.js';

/**
 * @azure/container-registry, unmodified, over HTTPS: with an Entra credential (@azure/identity's ClientSecretCredential
 * at the identity plane; the SDK exchanges its token at /oauth2/exchange and answers each challenge at /oauth2/token)
 * and anonymously. It runs in a child process because Node reads NODE_EXTRA_CA_CERTS (the local CA) only at start-up.
 */
const CLIENT = `
const { ContainerRegistryClient, ContainerRegistryContentClient } = await import(process.env.ACR_MODULE);
const { ClientSecretCredential } = await import(process.env.IDENTITY_MODULE);
const endpoint = process.env.ENDPOINT;
const credential = process.env.CLIENT_ID
  ? new ClientSecretCredential(process.env.TENANT_ID, process.env.CLIENT_ID, process.env.CLIENT_SECRET, { authorityHost: process.env.AUTHORITY_HOST, disableInstanceDiscovery: true })
  : undefined;
const client = credential ? new ContainerRegistryClient(endpoint, credential) : new ContainerRegistryClient(endpoint);
const out = {};
const attempt = async (name, work) => {
  try { out[name] = await work(); } catch (err) { out[name] = { error: err.statusCode ?? err.name, code: err.code, message: err.message }; }
};
await attempt('repositories', async () => { const names = []; for await (const n of client.listRepositoryNames()) names.push(n); return names; });
const repository = client.getRepository('app');
await attempt('repository', async () => { const p = await repository.getProperties(); return { name: p.name, manifestCount: p.manifestCount, tagCount: p.tagCount, canRead: p.canRead }; });
await attempt('tags', async () => { const tags = []; for await (const t of repository.getArtifact('v1').listTagProperties()) tags.push({ name: t.name, digest: t.digest }); return tags; });
await attempt('manifestProperties', async () => { const m = await repository.getArtifact('v1').getManifestProperties(); return { digest: m.digest, tags: m.tags }; });
if (credential) {
  const content = new ContainerRegistryContentClient(endpoint, 'app', credential);
  await attempt('manifest', async () => (await content.getManifest('v1')).digest);
  await attempt('lock', async () => (await repository.getArtifact('v1').updateTagProperties('v1', { canWrite: false })).canWrite);
}
console.log(JSON.stringify(out));`;

const resolve = (name: string) => pathToFileURL(createRequire(import.meta.url).resolve(name)).href;

function runClient(env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    execFile(process.execPath, ['--input-type=module', '-e', CLIENT], {
      env: { ...process.env, ACR_MODULE: resolve('@azure/container-registry'), IDENTITY_MODULE: resolve('@azure/identity'), ...env }, timeout: 60_000,
    }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${err.message}\n${stderr}`));
      else done(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

describe('@azure/container-registry against the registry (HTTPS)', () => {
  let server: TestServer;
  let endpoint: string;
  let layout: ImageLayout;
  let digest: string;
  let reader: TestPrincipal;
  let base: Record<string, string>;

  before(async () => {
    server = await startTestServer({ tls: true, anonymousPull: false });
    const placed = await createPlacedRegistry(server.app, 'sdkregistry', 'https');
    endpoint = placed.url;
    await useAdminUser(server.app, placed.registry, endpoint);
    layout = await buildImageLayout({ tag: 'v1' });
    await pushLayout(endpoint, server.caPath!, 'app', layout);
    digest = layout.top.digest;
    reader = await createClusterIdentity(server.app, 'sdk-reader');
    await assignRole(server.app, reader.principal.objectId, 'acrPull', placed.registry.resourceId!);
    base = { NODE_EXTRA_CA_CERTS: server.caPath!, ENDPOINT: endpoint };
  });
  after(async () => {
    await server.close();
    await layout?.remove();
  });

  it('with an Entra credential and AcrPull: lists, reads metadata and pulls, and may not lock a tag', async () => {
    const out = await runClient({
      ...base, AUTHORITY_HOST: server.config.publicUrl, TENANT_ID: server.app.identity.defaultTenantId,
      CLIENT_ID: reader.principal.appId, CLIENT_SECRET: reader.password.secretText,
    });
    assert.deepEqual(out['repositories'], ['app'], JSON.stringify(out));
    assert.deepEqual(out['repository'], { name: 'app', manifestCount: 1, tagCount: 1, canRead: true });
    assert.deepEqual(out['tags'], [{ name: 'v1', digest: digest }]);
    assert.deepEqual(out['manifestProperties'], { digest: digest, tags: ['v1'] });
    assert.equal(out['manifest'], digest);
    assert.equal((out['lock'] as { error: number }).error, 401, 'AcrPull does not grant metadata_write');
  });

  it('anonymously, where the registry allows anonymous pull: reads the repository, not the catalog', async () => {
    await server.app.registries.update('sdkregistry', { anonymousPull: true });
    try {
      const out = await runClient(base);
      assert.equal((out['repositories'] as { error: number }).error, 401, JSON.stringify(out));
      assert.deepEqual(out['repository'], { name: 'app', manifestCount: 1, tagCount: 1, canRead: true });
      assert.deepEqual(out['manifestProperties'], { digest: digest, tags: ['v1'] });
    } finally {
      await server.app.registries.update('sdkregistry', { anonymousPull: false });
    }
  });

  it('anonymously, where the registry does not allow it: 401', async () => {
    const out = await runClient(base);
    assert.equal((out['repository'] as { error: number }).error, 401, JSON.stringify(out));
  });
});
