import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROLE_IDS } from '../../../src/rbac/builtin-roles.js';
import { REGISTRY_ID, startArmTestServer, type ArmTestServer } from '../helpers.js';

describe('resource manager: Microsoft.ContainerRegistry/registries', () => {
  let s: ArmTestServer;
  let sub: string;
  let rg: string;

  before(async () => {
    s = await startArmTestServer();
    sub = `/subscriptions/${s.info.subscriptionId}`;
    rg = `${sub}/resourceGroups/${s.info.demo.resourceGroup}`;
  });
  after(async () => { await s.close(); });

  const registryPath = (name: string) => `${rg}/providers/Microsoft.ContainerRegistry/registries/${name}`;

  it('shows the demo registry with the fields az reads, and the data plane\'s login server', async () => {
    const r = await s.call('GET', `${REGISTRY_ID(s.info)}?api-version=2022-02-01-preview`);
    assert.equal(r.status, 200);
    assert.equal(r.json.id, REGISTRY_ID(s.info));
    assert.equal(r.json.type, 'Microsoft.ContainerRegistry/registries');
    assert.deepEqual(r.json.sku, { name: 'Standard', tier: 'Standard' });
    const registry = await s.app.registries.get(s.info.demo.registry);
    assert.equal(r.json.properties.loginServer, registry.loginServer);
    assert.equal(r.json.properties.loginServer, s.info.demo.loginServer);
    assert.equal(r.json.properties.provisioningState, 'Succeeded');
    assert.equal(r.json.properties.adminUserEnabled, false);
    assert.equal(r.json.properties.anonymousPullEnabled, false);
    assert.ok(!Number.isNaN(Date.parse(r.json.properties.creationDate)));
  });

  it('checks name availability: free, taken (in any case), invalid', async () => {
    const check = async (name: string) => (await s.call('POST', `${sub}/providers/Microsoft.ContainerRegistry/checkNameAvailability`,
      { body: { name, type: 'Microsoft.ContainerRegistry/registries' } })).json;
    assert.deepEqual(await check('freshname1'), { nameAvailable: true });
    assert.equal((await check(s.info.demo.registry.toUpperCase())).reason, 'AlreadyExists');
    assert.equal((await check('no')).reason, 'Invalid');
  });

  it('creates a registry the data plane serves, updates it, lists it, and deletes it with its assignments', async () => {
    const created = await s.call('PUT', registryPath('TeamRegistry1'), { body: { location: 'eastus', sku: { name: 'basic' }, properties: { anonymousPullEnabled: true } } });
    assert.equal(created.status, 201);
    assert.equal(created.json.name, 'teamregistry1');
    assert.equal(created.json.sku.name, 'Basic');
    assert.equal(created.json.properties.anonymousPullEnabled, true);
    const served = await s.app.registries.get('teamregistry1');
    assert.equal(served.anonymousPull, true);
    assert.equal(created.json.properties.loginServer, served.loginServer);

    const patched = await s.call('PATCH', registryPath('teamregistry1'), { body: { tags: { env: 'dev' }, sku: { name: 'Premium' }, properties: { anonymousPullEnabled: false } } });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.json.tags, { env: 'dev' });
    assert.equal(patched.json.sku.name, 'Premium');
    assert.equal((await s.app.registries.get('teamregistry1')).anonymousPull, false);

    const put = await s.call('PUT', registryPath('teamregistry1'), { body: { location: 'eastus', sku: { name: 'Standard' } } });
    assert.equal(put.status, 200, 'a PUT of an existing registry updates it');

    const inGroup = await s.call('GET', `${rg}/providers/Microsoft.ContainerRegistry/registries`);
    assert.ok(inGroup.json.value.some((r: any) => r.name === 'teamregistry1'));
    const inSubscription = await s.call('GET', `${sub}/providers/Microsoft.ContainerRegistry/registries`);
    assert.ok(inSubscription.json.value.some((r: any) => r.name === s.info.demo.registry));

    const { principal } = await s.app.identity.createServicePrincipal({ displayName: 'puller' });
    const scope = `${registryPath('teamregistry1')}/repositories/x`;
    await s.app.rbac.createAssignment({ name: '1b2c3d4e-0000-4000-8000-000000000001', scope: registryPath('teamregistry1'), roleDefinitionName: ROLE_IDS.acrPull, principalId: principal.objectId });
    assert.equal((await s.app.rbac.decide(principal.objectId, { action: 'Microsoft.ContainerRegistry/registries/pull/read' }, scope)).allowed, true);

    assert.equal((await s.call('DELETE', registryPath('teamregistry1'))).status, 200);
    await assert.rejects(s.app.registries.get('teamregistry1'));
    assert.deepEqual(await s.app.rbac.listAssignments({ scope: '/', mode: 'atAndBelow', principalId: principal.objectId }), []);
    const gone = await s.call('GET', registryPath('teamregistry1'));
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, 'ResourceNotFound');
    assert.equal((await s.call('DELETE', registryPath('teamregistry1'))).status, 204);
  });

  it('refuses a name in use elsewhere, invalid names, a missing sku or location, and bodies of the wrong type', async () => {
    await s.call('PUT', `${sub}/resourcegroups/other`, { body: { location: 'eastus' } });
    const taken = await s.call('PUT', `${sub}/resourceGroups/other/providers/Microsoft.ContainerRegistry/registries/${s.info.demo.registry}`,
      { body: { location: 'eastus', sku: { name: 'Basic' } } });
    assert.equal(taken.status, 409);
    assert.equal(taken.json.error.code, 'AlreadyInUse');
    assert.equal((await s.call('PUT', registryPath('ab'), { body: { location: 'eastus', sku: { name: 'Basic' } } })).json.error.code, 'InvalidRegistryName');
    assert.equal((await s.call('PUT', registryPath('nosku12345'), { body: { location: 'eastus' } })).status, 400);
    assert.equal((await s.call('PUT', registryPath('nolocation1'), { body: { sku: { name: 'Basic' } } })).json.error.code, 'LocationRequired');
    assert.equal((await s.call('PATCH', REGISTRY_ID(s.info), { body: { properties: { anonymousPullEnabled: 'yes' } } })).status, 400);
    for (const properties of ['x', [1]]) {
      const r = await s.call('PUT', REGISTRY_ID(s.info), { body: { location: 'eastus', sku: { name: 'Basic' }, properties } });
      assert.equal(r.json.error.code, 'InvalidRequestContent', JSON.stringify(properties));
    }
    const noGroup = await s.call('PUT', `${sub}/resourceGroups/absent/providers/Microsoft.ContainerRegistry/registries/whatever1`, { body: { location: 'eastus', sku: { name: 'Basic' } } });
    assert.equal(noGroup.status, 404);
    assert.equal(noGroup.json.error.code, 'ResourceGroupNotFound');
    const moved = await s.call('PUT', REGISTRY_ID(s.info), { body: { location: 'westus', sku: { name: 'Premium' } } });
    assert.equal(moved.status, 409);
    assert.equal(moved.json.error.code, 'InvalidResourceLocation');
    assert.equal((await s.call('GET', REGISTRY_ID(s.info))).json.sku.name, 'Standard', 'a refused PUT changes nothing');
    assert.equal((await s.call('PUT', `${sub}/resourcegroups/tagged`, { body: { location: 'eastus', tags: { 'a/b': 'c' } } })).json.error.code, 'InvalidTagNameCharacters');
  });

  it('reaches the registry access service: the admin user, scope maps and tokens', async () => {
    const disabled = await s.call('POST', `${REGISTRY_ID(s.info)}/listCredentials`);
    assert.equal(disabled.status, 400);
    assert.equal(disabled.json.error.code, 'AdminUserDisabled');
    const enable = await s.call('PATCH', REGISTRY_ID(s.info), { body: { properties: { adminUserEnabled: true } } });
    assert.equal(enable.status, 200);
    assert.equal(enable.json.properties.adminUserEnabled, true);
    const credentials = await s.call('POST', `${REGISTRY_ID(s.info)}/listCredentials`);
    assert.equal(credentials.status, 200);
    assert.deepEqual(credentials.json.passwords.map((p: { name: string }) => p.name), ['password', 'password2']);
    const maps = await s.call('GET', `${REGISTRY_ID(s.info)}/scopeMaps`);
    assert.equal(maps.status, 200);
    assert.ok(maps.json.value.some((m: { name: string }) => m.name === '_repositories_pull'));
    assert.equal((await s.call('GET', `${REGISTRY_ID(s.info)}/tokens/mytoken1`)).status, 404);
  });

  it('deleting a resource group deletes its registries', async () => {
    await s.call('PUT', `${sub}/resourcegroups/doomed`, { body: { location: 'eastus' } });
    await s.call('PUT', `${sub}/resourceGroups/doomed/providers/Microsoft.ContainerRegistry/registries/doomedregistry`, { body: { location: 'eastus', sku: { name: 'Basic' } } });
    assert.ok(await s.app.registries.get('doomedregistry'));
    assert.equal((await s.call('DELETE', `${sub}/resourcegroups/doomed`)).status, 200);
    await assert.rejects(s.app.registries.get('doomedregistry'));
  });
});
