import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DIRECTORY_WRITER_ROLE } from '../../src/identity/types.js';
import { ROLE_IDS } from '../../src/rbac/builtin-roles.js';
import { bootstrap, bootstrapPath, seedExports, type BootstrapInfo } from '../../src/server/bootstrap.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('first start (bootstrap)', () => {
  let s: TestServer;
  let info: BootstrapInfo;

  before(async () => {
    s = await startTestServer({ tls: true });
    const first = await bootstrap(s.app, { caCertPath: s.caPath! });
    assert.equal(first.created, true);
    info = first.info;
  });
  after(async () => { await s.close(); });

  it('writes bootstrap.json, readable by its owner only, with everything a client needs', () => {
    const file = bootstrapPath(s.dataDir);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const written = JSON.parse(readFileSync(file, 'utf8')) as BootstrapInfo;
    assert.deepEqual(written, info);
    assert.equal(info.tenantId, s.app.identity.defaultTenantId);
    assert.equal(info.authority, `${s.config.publicUrl}/${info.tenantId}`);
    assert.equal(info.armEndpoint, `${s.config.publicUrl}/`);
    assert.equal(info.graphEndpoint, `${s.config.publicUrl}/`);
    assert.equal(info.caCertPath, s.caPath);
    assert.deepEqual(Object.keys(info.demo).sort(), ['cluster', 'loginServer', 'registry', 'resourceGroup']);
  });

  it('makes the administrator Owner at the subscription and a directory writer, with a working password', async () => {
    const admin = await s.app.identity.checkClientSecret(info.admin.appId, info.admin.password);
    assert.ok(admin.directoryRoles.includes(DIRECTORY_WRITER_ROLE));
    const assignments = await s.app.rbac.listAssignments({ scope: `/subscriptions/${info.subscriptionId}`, mode: 'atScope', principalId: admin.objectId });
    assert.deepEqual(assignments.map((a) => a.roleDefinitionName), [ROLE_IDS.owner]);
  });

  it('creates the seed\'s environment: a resource group, a registry the data plane serves, a cluster with its own principal and no AcrPull', async () => {
    assert.equal(s.app.arm.subscriptions.getResourceGroup(info.subscriptionId, info.demo.resourceGroup).name, info.demo.resourceGroup);
    const registry = await s.app.registries.get(info.demo.registry);
    assert.equal(registry.loginServer, info.demo.loginServer);
    const cluster = s.app.arm.clusters.get(info.subscriptionId, info.demo.resourceGroup, info.demo.cluster);
    const sp = cluster.record.state.servicePrincipal!;
    const principal = await s.app.identity.checkClientSecret(sp.clientId, s.app.arm.clusters.nodeSecret(cluster)!);
    assert.deepEqual(principal.directoryRoles, [], 'a cluster identity is no directory writer');
    assert.deepEqual(await s.app.rbac.listAssignments({ scope: '/', mode: 'atAndBelow', principalId: principal.objectId }), []);
    // The registry made outside the resource manager (the test server's) is placed in the demo resource group.
    assert.match(s.app.arm.registries.resourceIdOf(s.registry.name)!, new RegExp(`/resourceGroups/${info.demo.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${s.registry.name}$`));
  });

  it('is idempotent: a second start reads the file back and creates nothing', async () => {
    const principalsBefore = (await s.app.rbac.listAssignments({ scope: '/', mode: 'atAndBelow' })).length;
    const again = await bootstrap(s.app, { caCertPath: s.caPath! });
    assert.equal(again.created, false);
    assert.deepEqual(again.info, info);
    assert.equal(s.app.arm.subscriptions.list().length, 1);
    assert.equal((await s.app.rbac.listAssignments({ scope: '/', mode: 'atAndBelow' })).length, principalsBefore);
  });

  it('prints the seed\'s variables as exports', () => {
    assert.deepEqual(seedExports(info), [
      `export AKS_RESOURCE_GROUP=${info.demo.resourceGroup}`,
      `export AKS_CLUSTER_NAME=${info.demo.cluster}`,
      `export ACR_NAME=${info.demo.registry}`,
      `export ACR_RESOURCE_GROUP=${info.demo.resourceGroup}`,
    ]);
  });
});
