import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROLE_IDS } from '../../src/rbac/builtin-roles.js';
import type { ContainerResult } from '../../src/kube/pull-check.js';
import { renderSecret } from '../../src/kube/secret-manifest.js';
import { runCli } from '../helpers/cli.js';
import { buildImageLayout, buildMultiArchLayout, type ImageLayout } from '../helpers/oci-image.js';
import { startKubeFixture, type KubeFixture } from './kube-fixture.js';

/**
 * `anchorage kube check` against a running server, one workload per outcome the kubelet can reach: pulled with a
 * pod's secret, a ServiceAccount's secret, the node's identity through the credential provider; refused for a
 * missing role, a role on another registry, an expired password, a missing secret, an unknown tag; and a
 * multi-architecture index with and without the platform asked for.
 */
describe('kube check: what the kubelet would do with each image, and why it fails', () => {
  let fx: KubeFixture;
  let single: ImageLayout;
  let multi: ImageLayout;
  let manifestsFile: string;
  let secretsFile: string;
  let azureJson: string;
  const sp: Record<string, { appId: string; objectId: string }> = {};
  let results: ContainerResult[];
  let exitCode: number | null;

  const check = async (...extra: string[]) => {
    const run = await runCli(['kube', 'check', '-f', manifestsFile, '--secrets', secretsFile, '--node-config', azureJson, '--ca-cert', fx.server.caPath!, '--data-dir', fx.server.dataDir, ...extra]);
    return run;
  };
  const result = (workload: string): ContainerResult => {
    const found = results.find((r) => r.workload === workload);
    assert.ok(found, `a result for ${workload}`);
    return found;
  };

  before(async () => {
    fx = await startKubeFixture();
    const { app } = fx.server;
    single = await buildImageLayout({ tag: 'v1' });
    multi = await buildMultiArchLayout({ tag: 'multi' });
    await fx.push(single, 'team/app');
    await fx.push(multi, 'team/multi');
    await fx.grantClusterPull();
    azureJson = await fx.writeAzureJson();

    const demoId = app.arm.registries.resourceIdOf(fx.info.demo.registry)!;
    const secrets: string[] = [];
    const makeSp = async (name: string, scope: string | undefined): Promise<string> => {
      const { principal, password } = await app.identity.createServicePrincipal({ displayName: name });
      sp[name] = { appId: principal.appId, objectId: principal.objectId };
      if (scope) await app.rbac.createAssignment({ name: randomUUID(), scope, roleDefinitionName: ROLE_IDS.acrPull, principalId: principal.objectId, principalType: 'ServicePrincipal' });
      return password.secretText;
    };
    const secret = (name: string, username: string, password: string, server = fx.loginServer) => secrets.push(renderSecret({ name, namespace: 'apps', server, login: { username, password } }, 'yaml'));
    secret('pull-ok', ...(await makeSp('pull-ok', demoId).then((p) => [sp['pull-ok']!.appId, p] as const)));
    secret('sa-secret', ...(await makeSp('sa-ok', demoId).then((p) => [sp['sa-ok']!.appId, p] as const)));
    secret('no-role', ...(await makeSp('no-role', undefined).then((p) => [sp['no-role']!.appId, p] as const)));
    // AcrPull on the demo registry, used for an image of the other one.
    const otherPassword = await makeSp('other-registry', demoId);
    secret('other-registry', sp['other-registry']!.appId, otherPassword, fx.otherLoginServer);
    await makeSp('expired', demoId);
    const directory = app.identity.directory(app.identity.defaultTenantId);
    const application = (await directory.listApplications({ filter: { appId: sp['expired']!.appId }, top: 1 })).items[0]!;
    for (const p of application.passwordCredentials) await directory.removePassword({ kind: 'application', id: application.id }, p.keyId);
    const day = 86_400_000;
    const expired = await directory.addPassword({ kind: 'application', id: application.id }, { startDateTime: new Date(Date.now() - 2 * day).toISOString(), endDateTime: new Date(Date.now() - day).toISOString() });
    secret('expired', sp['expired']!.appId, expired.secretText);
    secretsFile = join(fx.work, 'secrets.yaml');
    await writeFile(secretsFile, secrets.join('---\n'));

    const pod = (name: string, image: string, spec: Record<string, unknown> = {}) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'apps' }, spec: { containers: [{ name: 'main', image }], ...spec },
    });
    const app1 = `${fx.loginServer}/team/app:v1`;
    const docs: unknown[] = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder', namespace: 'apps' }, imagePullSecrets: [{ name: 'sa-secret' }] },
      pod('with-pod-secret', app1, { imagePullSecrets: [{ name: 'pull-ok' }] }),
      {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'with-sa-secret', namespace: 'apps' },
        spec: { template: { spec: { serviceAccountName: 'builder', initContainers: [{ name: 'init', image: app1 }], containers: [{ name: 'main', image: app1 }] } } },
      },
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'with-node-identity', namespace: 'apps' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'main', image: app1 }] } } } } } },
      pod('no-role', app1, { imagePullSecrets: [{ name: 'no-role' }] }),
      pod('other-registry', `${fx.otherLoginServer}/team/app:v1`, { imagePullSecrets: [{ name: 'other-registry' }] }),
      pod('expired', app1, { imagePullSecrets: [{ name: 'expired' }] }),
      pod('missing-secret', `${fx.otherLoginServer}/team/app:v1`, { imagePullSecrets: [{ name: 'does-not-exist' }] }),
      pod('unknown-tag', `${fx.loginServer}/team/app:v404`),
      pod('multi-arch', `${fx.loginServer}/team/multi:multi`),
      pod('invalid', 'Team/App'),
    ];
    manifestsFile = join(fx.work, 'workloads.yaml');
    // YAML documents, and one JSON document among them: the check reads both.
    await writeFile(manifestsFile, [...docs.slice(0, -1).map((d) => JSON.stringify(d, null, 2)), `# a comment\nkind: Pod\napiVersion: v1\nmetadata: {name: invalid, namespace: apps}\nspec:\n  containers:\n  - {name: main, image: Team/App}\n`].join('\n---\n'));

    const run = await check('--output', 'json', '--platform', 'linux/arm64');
    exitCode = run.code;
    assert.ok(run.stdout.startsWith('{'), run.stderr);
    results = (JSON.parse(run.stdout) as { results: ContainerResult[] }).results;
  });

  after(async () => {
    await single?.remove();
    await multi?.remove();
    await fx?.close();
  });

  it('pulls with the pod\'s own secret', () => {
    const r = result('Pod/with-pod-secret');
    assert.equal(r.outcome, 'pulled', JSON.stringify(r));
    assert.match(r.pulledWith!, /^secret apps\/pull-ok /);
    assert.equal(r.manifestDigest, single.top.digest);
  });

  it('pulls with the ServiceAccount\'s secret when the pod names none, init containers included', () => {
    const rs = results.filter((r) => r.workload === 'Deployment/with-sa-secret');
    assert.deepEqual(rs.map((r) => [r.containerKind, r.outcome]), [['initContainer', 'pulled'], ['container', 'pulled']]);
    for (const r of rs) assert.match(r.pulledWith!, /^secret apps\/sa-secret /);
  });

  it('pulls with the node\'s identity through the credential provider when no secret applies', () => {
    const r = result('CronJob/with-node-identity');
    assert.equal(r.outcome, 'pulled', JSON.stringify(r));
    assert.match(r.pulledWith!, /^provider anchorage-credential-provider \(user 00000000-0000-0000-0000-000000000000, key localhost:\d+\)$/);
  });

  it('a secret of a principal without a role: ErrImagePull, then the node identity is tried and pulls (the kubelet tries every match)', () => {
    const r = result('Pod/no-role');
    assert.equal(r.outcome, 'pulled');
    assert.match(r.pulledWith!, /^provider /);
    assert.equal(r.why.length, 1);
    assert.match(r.why[0]!, new RegExp(`^secret apps/no-role .*principal ${sp['no-role']!.objectId} has no role assignment granting`));
  });

  it('a role on another registry grants nothing here: refused, with RBAC\'s reason naming the scope', () => {
    const r = result('Pod/other-registry');
    assert.equal(r.outcome, 'failed', JSON.stringify(r));
    assert.equal(r.reason, 'ErrImagePull');
    assert.match(r.message!, /^Failed to pull image "localhost:\d+\/team\/app:v1": \[rpc error: code = Unknown desc = failed to pull and unpack image .*401 Unauthorized, rpc error: .*401 Unauthorized\]$/);
    assert.ok(r.why.some((w) => w.startsWith('secret apps/other-registry') && new RegExp(`no role assignment granting .* at /subscriptions/.*/registries/otherregistry`).test(w)), r.why.join('\n'));
    assert.ok(r.why.some((w) => w.startsWith('provider ') && /no role assignment granting/.test(w)), 'the cluster has no role there either');
  });

  it('an expired password: refused with the identity plane\'s reason', () => {
    const r = result('Pod/expired');
    // The node identity still pulls: the expired secret is only the first credential tried.
    assert.equal(r.outcome, 'pulled');
    assert.match(r.why[0]!, /^secret apps\/expired .*expired/i);
  });

  it('on a node without the credential provider, the missing role and the expired password are where the pulls end', async () => {
    const run = await runCli(['kube', 'check', '-f', manifestsFile, '--secrets', secretsFile, '--ca-cert', fx.server.caPath!, '--data-dir', fx.server.dataDir, '--output', 'json']);
    assert.equal(run.code, 1);
    const alone = (JSON.parse(run.stdout) as { results: ContainerResult[] }).results;
    const noRole = alone.find((r) => r.workload === 'Pod/no-role')!;
    assert.equal(noRole.outcome, 'failed');
    assert.match(noRole.message!, /^Failed to pull image ".*": rpc error: code = Unknown desc = .*401 Unauthorized$/);
    assert.deepEqual(noRole.why.length, 1);
    assert.match(noRole.why[0]!, /^secret apps\/no-role .*UNAUTHORIZED: authentication required: principal .* has no role assignment granting action Microsoft\.ContainerRegistry\/registries\/pull\/read at \/subscriptions\/.*\/registries\/mycontainerregistry/i);
    const expired = alone.find((r) => r.workload === 'Pod/expired')!;
    assert.equal(expired.outcome, 'failed');
    assert.match(expired.why[0]!, /^secret apps\/expired .*UNAUTHORIZED: .*expired/i);
    const node = alone.find((r) => r.workload === 'CronJob/with-node-identity')!;
    assert.equal(node.outcome, 'failed');
    assert.match(node.why[0]!, /^no credential matched localhost:\d+\/team\/app: the pod has no image pull secrets/);
    assert.match(node.why[1]!, /^the registry answered the anonymous pull: UNAUTHORIZED: authentication required: registry mycontainerregistry does not allow anonymous pull/i);
  });

  it('a missing secret: the kubelet\'s warning, and the pull goes on without it', () => {
    const r = result('Pod/missing-secret');
    assert.ok(r.warnings.some((w) => w === 'FailedToRetrieveImagePullSecret: Unable to retrieve some image pull secrets (does-not-exist); attempting to pull the image may not succeed.'), r.warnings.join('\n'));
    assert.equal(r.outcome, 'failed');
    assert.match(r.why.join('\n'), /provider .*no role assignment granting/);
  });

  it('an unknown tag: NotFound, as containerd reports it', () => {
    const r = result('Pod/unknown-tag');
    assert.equal(r.outcome, 'failed');
    assert.match(r.message!, /rpc error: code = NotFound desc = failed to pull and unpack image ".*\/team\/app:v404": failed to resolve reference ".*": .*team\/app:v404: not found/);
  });

  it('a multi-architecture index resolves to the platform asked for', () => {
    const r = result('Pod/multi-arch');
    assert.equal(r.outcome, 'pulled', JSON.stringify(r));
    assert.equal(r.manifestDigest, multi.images.find((i) => i.platform.architecture === 'arm64')!.manifest.digest);
  });

  it('an invalid image name: InvalidImageName, never a pull', () => {
    const r = result('Pod/invalid');
    assert.equal(r.reason, 'InvalidImageName');
    assert.match(r.message!, /repository name must be lowercase/);
  });

  it('exits non-zero when any image would fail; text output names the credential and the reasons', async () => {
    assert.equal(exitCode, 1);
    const text = await check('--platform', 'linux/s390x');
    assert.equal(text.code, 1);
    assert.match(text.stdout, /apps\/Pod\/multi-arch container main: .*\n {2}ErrImagePull: .*no match for platform in manifest: not found/);
    assert.match(text.stdout, /apps\/Pod\/with-pod-secret container main: .*\n {2}pulled sha256:[0-9a-f]{64} with secret apps\/pull-ok/);
    assert.match(text.stdout, /apps\/Pod\/no-role container main: .*\n {2}pulled sha256:[0-9a-f]{64} with provider .*\n {2}refused first: secret apps\/no-role .*has no role assignment granting/);
    assert.match(text.stdout, /apps\/Pod\/other-registry container main: .*\n {2}ErrImagePull: .*\n {2}why: secret apps\/other-registry .*no role assignment granting/);
  });
});
