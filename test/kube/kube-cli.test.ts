import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ROLE_IDS } from '../../src/rbac/builtin-roles.js';
import { runCli } from '../helpers/cli.js';
import { certsDir, run, writeText } from '../helpers/client-tools.js';
import { buildImageLayout, type ImageLayout } from '../helpers/oci-image.js';
import { startKubeFixture, type KubeFixture } from './kube-fixture.js';

const KUBECTL_MISSING = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'kubectl is not on PATH';
  }
})();
const PROVIDER = new URL('../../src/cli/credential-provider.js', import.meta.url).pathname;

/** The credential provider's answer for one image (the server runs in this process, so the child must not block it). */
function provide(azureJson: string, image: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [PROVIDER, azureJson], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    child.stdin!.end(JSON.stringify({ apiVersion: 'credentialprovider.kubelet.k8s.io/v1', kind: 'CredentialProviderRequest', image }));
  });
}

describe('anchorage kube pull-secret, node-config and expiring, run as commands against a running server\'s data folder', () => {
  let fx: KubeFixture;
  let image: ImageLayout;
  let data: string[];
  let skopeo: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;
  let certDir: string;

  const kube = (...args: string[]) => runCli(['kube', ...args, ...data]);
  /** The Secret's .dockerconfigjson, decoded. */
  const dockerConfig = (manifest: string): { auths: Record<string, { username: string; password: string; email?: string; auth: string }> } => {
    const secret = parseYaml(manifest) as { data: Record<string, string> };
    return JSON.parse(Buffer.from(secret.data['.dockerconfigjson']!, 'base64').toString('utf8'));
  };
  /** skopeo pulling the image with the secret's .dockerconfigjson as its auth file (the same JSON format). */
  const pullWith = async (manifest: string, name: string): Promise<void> => {
    const authfile = await writeText(join(fx.work, `${name}.json`), JSON.stringify(dockerConfig(manifest)));
    await skopeo('copy', '--authfile', authfile, '--src-cert-dir', certDir, `docker://${fx.loginServer}/team/app:v1`, `dir:${join(fx.work, `pulled-${name}`)}`);
  };
  const kubectlSecret = async (name: string, login: { username: string; password: string; email?: string }, format: string, namespace?: string) => (await run('kubectl', [
    'create', 'secret', 'docker-registry', name, '--docker-server', fx.loginServer, '--docker-username', login.username, '--docker-password', login.password,
    ...(login.email ? ['--docker-email', login.email] : []), ...(namespace ? ['-n', namespace] : []), '--dry-run=client', '-o', format,
  ], { env: { KUBECONFIG: '/dev/null' } })).stdout;

  before(async () => {
    fx = await startKubeFixture();
    data = ['--data-dir', fx.server.dataDir, '--public-url', fx.server.config.publicUrl];
    image = await buildImageLayout({ tag: 'v1' });
    await fx.push(image, 'team/app');
    certDir = await certsDir(join(fx.work, 'certs.d'), fx.loginServer, fx.server.caPath!);
    const policy = await writeText(join(fx.work, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    const registriesConf = await writeText(join(fx.work, 'registries.conf'), 'unqualified-search-registries = []\n');
    await writeText(join(fx.work, 'registries.d', 'default.yaml'), 'default-docker: {}\n');
    skopeo = (...args) => run('skopeo', ['--policy', policy, '--registries.d', join(fx.work, 'registries.d'), ...args], { env: { CONTAINERS_REGISTRIES_CONF: registriesConf } });
  });

  after(async () => {
    await image?.remove();
    await fx?.close();
  });

  it('--create-service-principal: a new principal with AcrPull; the Secret is kubectl\'s byte for byte, and skopeo pulls with it', async () => {
    const res = await kube('pull-secret', '--registry', fx.info.demo.registry, '--name', 'acr-auth', '--create-service-principal', 'http://acr-puller', '--email', 'ops@example.com');
    assert.equal(res.code, 0, res.stderr);
    const login = dockerConfig(res.stdout).auths[fx.loginServer]!;
    assert.match(login.username, /^[0-9a-f-]{36}$/);
    assert.match(res.stderr, /created service principal http:\/\/acr-puller \(appId [0-9a-f-]{36}\) with AcrPull on \/subscriptions\/.*\/registries\/myContainerRegistry/i);
    const expires = /the credential expires on (\S+)/.exec(res.stderr)?.[1];
    assert.ok(expires && Math.abs(Date.parse(expires) - Date.now() - 365.25 * 86_400_000) < 2 * 86_400_000, res.stderr);
    if (!KUBECTL_MISSING) assert.equal(res.stdout, await kubectlSecret('acr-auth', { ...login, email: 'ops@example.com' }, 'yaml'));
    await pullWith(res.stdout, 'sp');
  });

  it('--username/--password with -o json and two namespaces: one object each, kubectl\'s bytes; the expiry of an application secret is found by its hint', async () => {
    const { principal, password } = await fx.server.app.identity.createServicePrincipal({ displayName: 'existing-puller' });
    await fx.server.app.rbac.createAssignment({ name: randomUUID(), scope: fx.server.app.arm.registries.resourceIdOf(fx.info.demo.registry)!, roleDefinitionName: ROLE_IDS.acrPull, principalId: principal.objectId });
    const res = await kube('pull-secret', '--registry', fx.info.demo.registry, '--name', 'acr-auth', '-o', 'json', '-n', 'team-a', '-n', 'team-b',
      '--username', principal.appId, '--password', password.secretText, '--service-account', 'default');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`the credential expires on ${password.endDateTime.replace(/[.]/g, '\\.')}`));
    assert.match(res.stderr, /kubectl patch serviceaccount default -n team-a -p '\{"imagePullSecrets":\[\{"name":"acr-auth"\}\]\}'/);
    assert.match(res.stderr, /--type=json -p '\[\{"op":"add","path":"\/imagePullSecrets\/-","value":\{"name":"acr-auth"\}\}\]'/);
    if (!KUBECTL_MISSING) {
      const login = { username: principal.appId, password: password.secretText };
      assert.equal(res.stdout, await kubectlSecret('acr-auth', login, 'json', 'team-a') + await kubectlSecret('acr-auth', login, 'json', 'team-b'));
    }
  });

  it('--repository: a repository-scoped token that pulls team/app and nothing else', async () => {
    const res = await kube('pull-secret', '--registry', fx.info.demo.registry, '--name', 'team-app', '--repository', 'team/app', '--years', '0.5');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /created token pull-team-app on mycontainerregistry with scope map pull-team-app-scope: repositories\/team\/app\/content\/read, repositories\/team\/app\/metadata\/read/i);
    assert.match(res.stderr, /the credential expires on \d{4}-/);
    assert.equal(dockerConfig(res.stdout).auths[fx.loginServer]!.username, 'pull-team-app');
    await pullWith(res.stdout, 'token');
    const other = await buildImageLayout({ tag: 'v1', layers: [{ 'x.txt': 'x\n' }] });
    try {
      await fx.push(other, 'secret/app');
      const authfile = join(fx.work, 'token.json');
      await assert.rejects(skopeo('copy', '--authfile', authfile, '--src-cert-dir', certDir, `docker://${fx.loginServer}/secret/app:v1`, `dir:${join(fx.work, 'denied')}`), /unauthorized|denied|401/i);
    } finally {
      await other.remove();
    }
  });

  it('node-config writes azure.json (0600), the CredentialProviderConfig and the kubelet flags; the provider works with them', async () => {
    const out = join(fx.work, 'node');
    await fx.grantClusterPull();
    const res = await kube('node-config', '--cluster', fx.info.demo.cluster, '--resource-group', fx.info.demo.resourceGroup, '--output-dir', out);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await stat(join(out, 'azure.json'))).mode & 0o777, 0o600);
    const azure = JSON.parse(await readFile(join(out, 'azure.json'), 'utf8')) as Record<string, unknown>;
    const cluster = fx.server.app.arm.clusters.get(fx.info.subscriptionId, fx.info.demo.resourceGroup, fx.info.demo.cluster);
    assert.equal(azure['aadClientId'], cluster.record.state.servicePrincipal!.clientId);
    assert.equal(azure['tenantId'], fx.info.tenantId);
    assert.equal(azure['useManagedIdentityExtension'], false);
    assert.equal(azure['activeDirectoryEndpoint'], `${fx.server.config.publicUrl}/`);
    assert.deepEqual([...(azure['containerRegistryServers'] as string[])].sort(), [fx.loginServer, fx.otherLoginServer].sort());
    assert.match(azure['caCertificate'] as string, /^-----BEGIN CERTIFICATE-----/);
    const providerConfig = parseYaml(await readFile(join(out, 'credential-provider-config.yaml'), 'utf8')) as {
      apiVersion: string; kind: string; providers: Array<{ name: string; matchImages: string[]; apiVersion: string; args: string[]; defaultCacheDuration: string }>;
    };
    assert.equal(providerConfig.apiVersion, 'kubelet.config.k8s.io/v1');
    assert.equal(providerConfig.kind, 'CredentialProviderConfig');
    assert.deepEqual(providerConfig.providers.map((p) => [p.name, p.apiVersion, p.args]), [['anchorage-credential-provider', 'credentialprovider.kubelet.k8s.io/v1', ['/etc/kubernetes/azure.json']]]);
    assert.deepEqual(providerConfig.providers[0]!.matchImages, azure['containerRegistryServers']);
    assert.equal(await readFile(join(out, 'kubelet-flags'), 'utf8'),
      '--image-credential-provider-config=/var/lib/kubelet/credential-provider-config.yaml --image-credential-provider-bin-dir=/var/lib/kubelet/credential-provider\n');
    for (const host of [fx.loginServer, fx.otherLoginServer]) {
      assert.equal(await readFile(join(out, 'certs.d', host, 'hosts.toml'), 'utf8'), `server = "https://${host}"\n\n[host."https://${host}"]\n  capabilities = ["pull", "resolve"]\n  ca = "ca.crt"\n`);
      assert.equal(await readFile(join(out, 'certs.d', host, 'ca.crt'), 'utf8'), fx.ca);
    }
    assert.match(res.stdout, new RegExp(`${fx.loginServer} \\(mycontainerregistry\\): can pull — principal .* may perform`, 'i'));
    assert.match(res.stdout, new RegExp(`${fx.otherLoginServer} \\(otherregistry\\): cannot pull yet — principal .* has no role assignment`, 'i'));
    const answer = JSON.parse(await provide(join(out, 'azure.json'), `${fx.loginServer}/team/app:v1`)) as { auth: Record<string, { username: string }> };
    assert.equal(answer.auth[fx.loginServer]!.username, '00000000-0000-0000-0000-000000000000');
  });

  it('node-config replaces a cluster secret that no longer works with a new password (reset-credentials), and the provider uses it', async () => {
    const { app } = fx.server;
    const cluster = app.arm.clusters.get(fx.info.subscriptionId, fx.info.demo.resourceGroup, fx.info.demo.cluster);
    const appId = cluster.record.state.servicePrincipal!.clientId;
    const directory = app.identity.directory(app.identity.defaultTenantId);
    const application = (await directory.listApplications({ filter: { appId }, top: 1 })).items[0]!;
    // As `az ad sp credential reset` does: the password AKS made is gone.
    for (const p of application.passwordCredentials) await directory.removePassword({ kind: 'application', id: application.id }, p.keyId);
    const out = join(fx.work, 'node-reset');
    const res = await kube('node-config', '--cluster', fx.info.demo.cluster, '--resource-group', fx.info.demo.resourceGroup, '--output-dir', out);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /note: the cluster's stored secret for [0-9a-f-]{36} no longer works/);
    assert.match(res.stderr, /note: added a password to application [0-9a-f-]{36} \(keyId [0-9a-f-]{36}, valid until \d{4}-/);
    const azure = JSON.parse(await readFile(join(out, 'azure.json'), 'utf8')) as { aadClientSecret: string };
    await app.identity.checkClientSecret(appId, azure.aadClientSecret);
    assert.ok(JSON.parse(await provide(join(out, 'azure.json'), `${fx.loginServer}/team/app`)).auth[fx.loginServer]);
  });

  it('expiring lists passwords and token passwords ending within the window, with the roles and scope map actions they carry', async () => {
    const { app } = fx.server;
    const { principal } = await app.identity.createServicePrincipal({ displayName: 'soon-expiring' });
    await app.rbac.createAssignment({ name: randomUUID(), scope: app.arm.registries.resourceIdOf(fx.info.demo.registry)!, roleDefinitionName: ROLE_IDS.acrPull, principalId: principal.objectId });
    const soon = await app.identity.addPassword(principal.appId, { endDateTime: new Date(Date.now() + 10 * 86_400_000).toISOString() });
    const res = await kube('expiring', '--within', '30d');
    assert.equal(res.code, 0, res.stderr);
    const line = res.stdout.split('\n').find((l) => l.includes(soon.keyId));
    assert.ok(line, res.stdout);
    assert.match(line, new RegExp(`^expires ${soon.endDateTime.replace(/[.]/g, '\\.')}\\tpassword ${soon.keyId} \\(${soon.hint}\\.\\.\\.\\) of soon-expiring \\(appId ${principal.appId}\\)\\tAcrPull at /subscriptions/.*/registries/myContainerRegistry$`, 'i'));
    assert.ok(!res.stdout.includes('pull-team-app'), 'the token made with --years 0.5 ends in about 182 days');
    const half = await kube('expiring', '--within', '200d');
    assert.match(half.stdout, /expires \S+\tpassword1 of token pull-team-app on localhost:\d+\tscope map pull-team-app-scope: repositories\/team\/app\/content\/read, repositories\/team\/app\/metadata\/read/);
    const narrow = await kube('expiring', '--within', '1d');
    assert.ok(!narrow.stdout.includes(soon.keyId));
  });

  it('pull-secret refuses a Secret name or namespace the API server would, before any credential is made for it', async () => {
    for (const args of [['--name', 'Bad_Name!'], ['--name', 'ok', '--namespace', 'Bad NS']]) {
      const r = await kube('pull-secret', ...args, '--registry', 'myContainerRegistry', '--create-service-principal', 'http://never-made');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^anchorage: metadata\.(name|namespace): Invalid value/);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, 'one line, no stack');
    }
    assert.ok(!(await kube('expiring', '--within', '36500d')).stdout.includes('never-made'), 'no principal was made');
    const missing = await runCli(['kube', 'expiring', '--data-dir', join(fx.work, 'no-such-folder')]);
    assert.match(missing.stderr, /^anchorage: there is no data folder at /);
  });
});
