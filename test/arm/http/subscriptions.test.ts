import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROLE_IDS } from '../../../src/rbac/builtin-roles.js';
import { startArmTestServer, type ArmTestServer } from '../helpers.js';

describe('resource manager: tenants, subscriptions, resource groups, resources', () => {
  let s: ArmTestServer;
  let sub: string;
  /** A principal with no role anywhere, and its token. */
  let stranger: { objectId: string; token: string };

  before(async () => {
    s = await startArmTestServer();
    sub = `/subscriptions/${s.info.subscriptionId}`;
    const { principal, password } = await s.app.identity.createServicePrincipal({ displayName: 'stranger' });
    stranger = { objectId: principal.objectId, token: await s.token(principal.appId, password.secretText) };
  });
  after(async () => { await s.close(); });

  it('lists the caller\'s tenant and the subscriptions it has a role in, in the shape az login reads', async () => {
    const tenants = await s.call('GET', '/tenants');
    assert.equal(tenants.json.value[0].tenantId, s.info.tenantId);
    const subs = await s.call('GET', '/subscriptions?api-version=2019-11-01');
    assert.equal(subs.status, 200);
    const [one] = subs.json.value;
    assert.deepEqual({ id: one.id, subscriptionId: one.subscriptionId, tenantId: one.tenantId, state: one.state },
      { id: sub, subscriptionId: s.info.subscriptionId, tenantId: s.info.tenantId, state: 'Enabled' });
    assert.equal((await s.call('GET', sub)).json.displayName, 'Anchorage');
  });

  it('hides a subscription from a principal with no role in it, and shows it once it has one below it', async () => {
    assert.deepEqual((await s.call('GET', '/subscriptions', { token: stranger.token })).json.value, []);
    const hidden = await s.call('GET', sub, { token: stranger.token });
    assert.equal(hidden.status, 404);
    assert.equal(hidden.json.error.code, 'SubscriptionNotFound');
    const scope = `${sub}/resourceGroups/${s.info.demo.resourceGroup}`;
    const name = '5a1d8e10-0000-4000-8000-000000000001';
    await s.app.rbac.createAssignment({ name, scope, roleDefinitionName: ROLE_IDS.reader, principalId: stranger.objectId });
    try {
      assert.equal((await s.call('GET', '/subscriptions', { token: stranger.token })).json.value.length, 1);
      const groups = await s.call('GET', `${sub}/resourcegroups`, { token: stranger.token });
      assert.deepEqual(groups.json.value.map((g: any) => g.name), [s.info.demo.resourceGroup]);
    } finally {
      await s.app.rbac.deleteAssignment(scope, name);
    }
  });

  it('creates, reads, updates, tests and deletes a resource group', async () => {
    const created = await s.call('PUT', `${sub}/resourcegroups/Team-RG`, { body: { location: 'West Europe', tags: { team: 'a' } } });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json, {
      id: `${sub}/resourceGroups/Team-RG`, name: 'Team-RG', type: 'Microsoft.Resources/resourceGroups', location: 'westeurope',
      tags: { team: 'a' }, properties: { provisioningState: 'Succeeded' },
    });
    const again = await s.call('PUT', `${sub}/resourceGroups/team-rg`, { body: { location: 'westeurope' } });
    assert.equal(again.status, 200);
    assert.equal(again.json.name, 'Team-RG', 'names keep the case they were created with');
    const moved = await s.call('PUT', `${sub}/resourceGroups/team-rg`, { body: { location: 'eastus' } });
    assert.equal(moved.status, 409);
    assert.equal((await s.call('PATCH', `${sub}/resourceGroups/team-rg`, { body: { tags: { team: 'b' } } })).json.tags.team, 'b');
    assert.equal((await s.call('GET', `${sub}/resourcegroups/TEAM-RG`)).json.location, 'westeurope');
    assert.equal((await s.call('HEAD', `${sub}/resourcegroups/team-rg`)).status, 204);
    assert.equal((await s.call('DELETE', `${sub}/resourcegroups/team-rg`)).status, 200);
    assert.equal((await s.call('HEAD', `${sub}/resourcegroups/team-rg`)).status, 404);
    const gone = await s.call('GET', `${sub}/resourcegroups/team-rg`);
    assert.deepEqual(gone.json, { error: { code: 'ResourceGroupNotFound', message: "Resource group 'team-rg' could not be found." } });
    assert.equal((await s.call('DELETE', `${sub}/resourcegroups/team-rg`)).status, 404);
  });

  it('validates resource groups: location required, name rules', async () => {
    const noLocation = await s.call('PUT', `${sub}/resourcegroups/nowhere`, { body: {} });
    assert.equal(noLocation.status, 400);
    assert.equal(noLocation.json.error.code, 'LocationRequired');
    const badName = await s.call('PUT', `${sub}/resourcegroups/bad.`, { body: { location: 'eastus' } });
    assert.equal(badName.json.error.code, 'InvalidResourceGroup');
  });

  it('lists resources with $filter=resourceType eq, as az acr show finds a registry by name', async () => {
    const filter = encodeURIComponent("resourceType eq 'Microsoft.ContainerRegistry/registries'");
    const r = await s.call('GET', `${sub}/resources?$filter=${filter}&api-version=2021-04-01`);
    assert.equal(r.status, 200);
    const names = r.json.value.map((v: any) => v.name);
    assert.ok(names.includes(s.info.demo.registry));
    assert.ok(r.json.value.every((v: any) => v.type === 'Microsoft.ContainerRegistry/registries'));
    const clusters = await s.call('GET', `${sub}/resourceGroups/${s.info.demo.resourceGroup}/resources?$filter=${encodeURIComponent("resourceType eq 'microsoft.containerservice/managedclusters'")}`);
    assert.deepEqual(clusters.json.value.map((v: any) => v.name), [s.info.demo.cluster]);
    const byName = await s.call('GET', `${sub}/resources?$filter=${encodeURIComponent(`name eq '${s.info.demo.cluster.toUpperCase()}'`)}`);
    assert.equal(byName.json.value.length, 1);
  });

  it('forbids a caller without a role: 403 AuthorizationFailed naming the action and scope', async () => {
    const r = await s.call('PUT', `${sub}/resourcegroups/mine`, { token: stranger.token, body: { location: 'eastus' } });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'AuthorizationFailed');
    assert.match(r.json.error.message, new RegExp(`with object id '${stranger.objectId}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/write' over scope '${sub}/resourcegroups/mine' or the scope is invalid.`, 'i'));
    assert.match(r.json.error.details[0].message, /has no role assignment granting action Microsoft.Resources\/subscriptions\/resourceGroups\/write/);
  });
});
