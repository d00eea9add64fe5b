import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startArmTestServer, type ArmTestServer } from '../helpers.js';

const CLIENT = fileURLToPath(new URL('./seed-flow-client.js', import.meta.url));

function runClient(env: Record<string, string>): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT], { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

describe('flow 1 of the seed with @azure/arm-containerservice, -containerregistry, -authorization, -resources and @azure/identity (HTTPS)', () => {
  let s: ArmTestServer;
  let result: any;

  before(async () => {
    s = await startArmTestServer({ tls: true });
    const cluster = s.app.arm.clusters.get(s.info.subscriptionId, s.info.demo.resourceGroup, s.info.demo.cluster);
    result = await runClient({
      NODE_EXTRA_CA_CERTS: s.caPath!,
      AUTHORITY_HOST: s.config.publicUrl,
      ARM_ENDPOINT: s.config.publicUrl,
      TENANT_ID: s.info.tenantId,
      SUBSCRIPTION_ID: s.info.subscriptionId,
      RESOURCE_GROUP: s.info.demo.resourceGroup,
      CLUSTER_NAME: s.info.demo.cluster,
      REGISTRY_NAME: s.info.demo.registry,
      ADMIN_ID: s.info.admin.appId,
      ADMIN_SECRET: s.info.admin.password,
      CLUSTER_SECRET: s.app.arm.clusters.nodeSecret(cluster)!,
    });
    assert.equal(result.failed, undefined, JSON.stringify(result));
  });
  after(async () => { await s.close(); });

  it('reads the cluster\'s service principal and the registry\'s id', async () => {
    const cluster = s.app.arm.clusters.get(s.info.subscriptionId, s.info.demo.resourceGroup, s.info.demo.cluster);
    assert.equal(result.clientId, cluster.record.state.servicePrincipal!.clientId);
    assert.equal(result.acrId, `/subscriptions/${s.info.subscriptionId}/resourceGroups/${s.info.demo.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${s.info.demo.registry}`);
    assert.equal(result.loginServer, s.info.demo.loginServer);
    assert.equal(result.principalId, (await s.app.identity.principalByAppId(result.clientId))!.objectId);
  });

  it('creates the acrpull assignment, lists it at the scope and for the principal, reads it by id, and deletes it', () => {
    assert.match(result.acrPullId, /\/providers\/Microsoft\.Authorization\/roleDefinitions\/7f951dda-4ed3-4680-a7ca-43fe172d538d$/);
    assert.deepEqual(result.created, { name: result.created.name, scope: result.acrId, principalId: result.principalId, roleDefinitionId: result.acrPullId });
    assert.ok(result.atScope.includes(result.created.name));
    assert.deepEqual(result.ofPrincipal, [result.created.name]);
    assert.equal(result.byId, result.created.name);
    assert.equal(result.deleted, result.created.name);
    assert.deepEqual(result.afterDelete, []);
  });

  it('surfaces 403 AuthorizationFailed and 409 RoleAssignmentExists as the SDK\'s RestError', () => {
    assert.equal(result.forbidden.statusCode, 403);
    assert.equal(result.forbidden.code, 'AuthorizationFailed');
    assert.equal(result.duplicate.statusCode, 409);
    assert.equal(result.duplicate.code, 'RoleAssignmentExists');
  });

  it('lists resources by type, and creates and deletes a registry and a cluster through the SDKs\' pollers', () => {
    assert.ok(result.registriesByType.includes(s.info.demo.registry));
    assert.equal(result.groupLocation, 'eastus');
    assert.equal(result.newRegistry.provisioningState, 'Succeeded');
    assert.match(result.newRegistry.loginServer, /\S+/);
    assert.equal(result.newCluster.clientId, 'msi');
    assert.match(result.newCluster.kubelet, /^[0-9a-f-]{36}$/);
    assert.equal(result.missing.statusCode, 404);
    assert.equal(result.missing.code, 'ResourceNotFound');
  });
});
