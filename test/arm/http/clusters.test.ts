import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROLE_IDS } from '../../../src/rbac/builtin-roles.js';
import { CLUSTER_ID, startArmTestServer, type ArmTestServer } from '../helpers.js';

describe('resource manager: Microsoft.ContainerService/managedClusters', () => {
  let s: ArmTestServer;
  let rg: string;

  before(async () => {
    s = await startArmTestServer();
    rg = `/subscriptions/${s.info.subscriptionId}/resourceGroups/${s.info.demo.resourceGroup}`;
  });
  after(async () => { await s.close(); });

  const clusterPath = (name: string) => `${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;

  it('gives the demo cluster a real service principal: servicePrincipalProfile.clientId is an appId that gets tokens', async () => {
    const r = await s.call('GET', `${CLUSTER_ID(s.info)}?api-version=2022-11-01`);
    assert.equal(r.status, 200);
    assert.equal(r.json.type, 'Microsoft.ContainerService/ManagedClusters');
    assert.equal(r.json.properties.provisioningState, 'Succeeded');
    assert.equal(r.json.identity, undefined);
    const clientId = r.json.properties.servicePrincipalProfile.clientId;
    const principal = await s.app.identity.principalByAppId(clientId);
    assert.ok(principal, 'the clientId names a service principal of the directory');
    assert.equal(r.json.properties.servicePrincipalProfile.secret, undefined, 'the secret is never shown');
    const secret = s.app.arm.clusters.nodeSecret(s.app.arm.clusters.get(s.info.subscriptionId, s.info.demo.resourceGroup, s.info.demo.cluster))!;
    assert.ok(await s.token(clientId, secret), 'the cluster identity can get an ARM token, as a node would');
    for (const file of ['anchorage.db', 'anchorage.db-wal'].map((f) => join(s.dataDir, f)).filter(existsSync)) {
      assert.equal(readFileSync(file).includes(Buffer.from(secret)), false, `${file} holds the cluster's secret in the clear`);
    }
    assert.deepEqual(await s.app.rbac.listAssignments({ scope: '/', mode: 'atAndBelow', principalId: principal.objectId }), [], 'no AcrPull yet');
  });

  it('creates a managed-identity cluster: clientId "msi" and a kubelet identity', async () => {
    const r = await s.call('PUT', clusterPath('msiCluster'), { body: { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: { dnsPrefix: 'msi' } } });
    assert.equal(r.status, 201);
    assert.equal(r.json.identity.type, 'SystemAssigned');
    assert.equal(r.json.identity.tenantId, s.info.tenantId);
    assert.ok(await s.app.identity.principalByObjectId(r.json.identity.principalId));
    assert.equal(r.json.properties.servicePrincipalProfile.clientId, 'msi');
    const kubelet = r.json.properties.identityProfile.kubeletidentity;
    assert.match(kubelet.resourceId, /\/resourcegroups\/MC_myResourceGroup_msiCluster_eastus\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/msiCluster-agentpool$/);
    const p = await s.app.identity.principalByObjectId(kubelet.objectId);
    assert.equal(p?.appId, kubelet.clientId);
    assert.equal(p?.type, 'ManagedIdentity');

    // az aks update PUTs the cluster back: identities stay.
    const again = await s.call('PUT', clusterPath('msiCluster'), { body: { ...r.json, tags: { a: 'b' } } });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json.properties.identityProfile, r.json.properties.identityProfile);
    assert.deepEqual(again.json.tags, { a: 'b' });
  });

  it('takes a user-assigned identity and an existing service principal', async () => {
    const uai = `/subscriptions/${s.info.subscriptionId}/resourceGroups/${s.info.demo.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/control`;
    const r = await s.call('PUT', clusterPath('uaiCluster'), { body: { location: 'eastus', identity: { type: 'UserAssigned', userAssignedIdentities: { [uai]: {} } } } });
    assert.equal(r.status, 201);
    assert.ok(r.json.identity.userAssignedIdentities[uai].clientId);

    const { principal, password } = await s.app.identity.createServicePrincipal({ displayName: 'byo' });
    const byo = await s.call('PUT', clusterPath('byoCluster'), { body: { location: 'eastus', properties: { servicePrincipalProfile: { clientId: principal.appId, secret: password.secretText } } } });
    assert.equal(byo.status, 201);
    assert.equal(byo.json.properties.servicePrincipalProfile.clientId, principal.appId);
    assert.equal((await s.call('DELETE', clusterPath('byoCluster'))).status, 200);
    assert.ok(await s.app.identity.principalByObjectId(principal.objectId), 'a service principal the caller brought stays');

    const unknown = await s.call('PUT', clusterPath('badCluster'), { body: { location: 'eastus', properties: { servicePrincipalProfile: { clientId: '00000000-1111-2222-3333-444444444444' } } } });
    assert.equal(unknown.status, 400);
    assert.equal((await s.call('PUT', clusterPath('badCluster'), { body: { location: 'eastus', identity: { type: 'Weird' } } })).status, 400);
    assert.equal((await s.call('PUT', clusterPath('badCluster'), { body: { properties: {} } })).json.error.code, 'LocationRequired');
  });

  it('keeps a user-assigned identity, and its role assignments, while another cluster still uses it', async () => {
    const uai = `/subscriptions/${s.info.subscriptionId}/resourceGroups/${s.info.demo.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shared`;
    const body = { location: 'eastus', identity: { type: 'UserAssigned', userAssignedIdentities: { [uai]: {} } } };
    const first = await s.call('PUT', clusterPath('sharingOne'), { body });
    const second = await s.call('PUT', clusterPath('sharingTwo'), { body });
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    const principalId = first.json.identity.userAssignedIdentities[uai].principalId;
    assert.ok(principalId);
    assert.equal(second.json.identity.userAssignedIdentities[uai].principalId, principalId, 'both clusters name the one identity');
    await s.app.rbac.createAssignment({ name: '2b2c3d4e-0000-4000-8000-000000000003', scope: `${rg}/providers/Microsoft.ContainerRegistry/registries/${s.info.demo.registry}`, roleDefinitionName: ROLE_IDS.acrPull, principalId });
    const assignments = () => s.app.rbac.listAssignments({ scope: '/', mode: 'atAndBelow', principalId });

    assert.equal((await s.call('DELETE', clusterPath('sharingTwo'))).status, 200);
    assert.ok(await s.app.identity.principalByObjectId(principalId), 'sharingOne still uses the identity');
    assert.equal((await assignments()).length, 1);
    assert.equal((await s.call('DELETE', clusterPath('sharingOne'))).status, 200);
    assert.equal(await s.app.identity.principalByObjectId(principalId), undefined, 'the last cluster using it takes it along');
    assert.deepEqual(await assignments(), []);

    for (const key of ['', `${rg}/providers/Microsoft.ContainerService/managedClusters/sharingOne`, `${uai}/extra`, 'control']) {
      const bad = await s.call('PUT', clusterPath('sharingBad'), { body: { ...body, identity: { type: 'UserAssigned', userAssignedIdentities: { [key]: {} } } } });
      assert.equal(bad.status, 400, key);
      assert.equal(bad.json.error.code, 'InvalidParameter', key);
      assert.match(bad.json.error.message, /not the id of a user-assigned identity/, key);
    }
  });

  it('checks what a PUT stores and serves back: dnsPrefix, version, pools, sku, tags, location', async () => {
    const put = (body: object, name = 'checkedCluster') => s.call('PUT', clusterPath(name), { body: { location: 'eastus', ...body } });
    const refusals: Array<[object, string, RegExp]> = [
      [{ properties: { dnsPrefix: 'a\nb: c' } }, 'InvalidParameter', /dnsPrefix/],
      [{ properties: { dnsPrefix: '-lead' } }, 'InvalidParameter', /dnsPrefix/],
      [{ properties: { kubernetesVersion: { a: 1 } } }, 'InvalidParameter', /kubernetesVersion/],
      [{ properties: { agentPoolProfiles: 'x' } }, 'InvalidParameter', /agentPoolProfiles/],
      [{ properties: { agentPoolProfiles: [{ name: 'Pool_1', count: 1 }] } }, 'InvalidParameter', /name must be/],
      [{ properties: { agentPoolProfiles: [{ name: 'pool1', count: -1 }] } }, 'InvalidParameter', /count/],
      [{ properties: { enableRBAC: 'yes' } }, 'InvalidParameter', /enableRBAC/],
      [{ sku: 5 }, 'InvalidParameter', /sku/],
      [{ tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v'])) }, 'InvalidParameter', /at most 50 tags/],
      [{ tags: { 'a<b>': 'v' } }, 'InvalidTagNameCharacters', /tag name/],
      [{ tags: { a: 'v'.repeat(257) } }, 'InvalidParameter', /longer than 256/],
      [{ location: 'nowhere-land!!' }, 'LocationNotAvailableForResourceType', /not available/],
    ];
    for (const [body, code, message] of refusals) {
      const r = await put(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.code, code, JSON.stringify(body));
      assert.match(r.json.error.message, message);
    }
    assert.equal((await s.call('GET', clusterPath('checkedCluster'))).status, 404, 'nothing was stored');

    const made = await put({ location: 'East US', properties: { kubernetesVersion: '', agentPoolProfiles: [{ name: 'pool1', count: 3, vmSize: 'Standard_D2s_v3' }] } }, '1checked_Cluster');
    assert.equal(made.status, 201, JSON.stringify(made.json));
    assert.match(made.json.properties.dnsPrefix, /^a1checkedC-myResourceGroup-[0-9a-f]{6}$/, 'the default, as az aks create makes it');
    const moved = await put({ location: 'westus' }, '1checked_Cluster');
    assert.equal(moved.status, 409);
    assert.equal(moved.json.error.code, 'InvalidResourceLocation');
    const renamed = await put({ properties: { dnsPrefix: 'other' } }, '1checked_Cluster');
    assert.equal(renamed.json.error.code, 'PropertyChangeNotAllowed');
    assert.equal((await put({ ...made.json, tags: { team: 'a' } }, '1checked_Cluster')).status, 200, 'az aks update PUTs the cluster back as it read it');
    assert.equal((await s.call('DELETE', clusterPath('1checked_Cluster'))).status, 200);
  });

  it('lists clusters, returns a kubeconfig, and deletes a cluster with its principals and assignments', async () => {
    const created = await s.call('PUT', clusterPath('shortLived'), { body: { location: 'eastus' } });
    const appId = created.json.properties.servicePrincipalProfile.clientId;
    const principal = (await s.app.identity.principalByAppId(appId))!;
    const admin = (await s.app.identity.principalByAppId(s.info.admin.appId))!;
    await s.app.rbac.createAssignment({ name: '2b2c3d4e-0000-4000-8000-000000000001', scope: `${rg}/providers/Microsoft.ContainerRegistry/registries/${s.info.demo.registry}`, roleDefinitionName: ROLE_IDS.acrPull, principalId: principal.objectId });
    await s.app.rbac.createAssignment({ name: '2b2c3d4e-0000-4000-8000-000000000002', scope: clusterPath('shortLived'), roleDefinitionName: ROLE_IDS.reader, principalId: admin.objectId });

    const list = await s.call('GET', `${rg}/providers/Microsoft.ContainerService/managedClusters`);
    assert.ok(list.json.value.some((c: any) => c.name === 'shortLived'));
    const all = await s.call('GET', `/subscriptions/${s.info.subscriptionId}/providers/Microsoft.ContainerService/managedClusters`);
    assert.ok(all.json.value.length >= 2);

    const creds = await s.call('POST', `${clusterPath('shortLived')}/listClusterUserCredential`);
    assert.equal(creds.json.kubeconfigs[0].name, 'clusterUser');
    assert.match(Buffer.from(creds.json.kubeconfigs[0].value, 'base64').toString(), /server: https:\/\/[^\s]+\.hcp\.eastus\.azmk8s\.io:443/);

    assert.equal((await s.call('DELETE', clusterPath('shortLived'))).status, 200);
    assert.equal(await s.app.identity.principalByAppId(appId), undefined, 'the cluster\'s own service principal goes with it');
    assert.deepEqual(await s.app.rbac.listAssignments({ scope: '/', mode: 'atAndBelow', principalId: principal.objectId }), []);
    assert.deepEqual(await s.app.rbac.listAssignments({ scope: '/', mode: 'atAndBelow', principalId: admin.objectId })
      .then((l) => l.filter((a) => a.scope.toLowerCase().includes('shortlived'))), [], 'assignments at the cluster go with it');
    assert.equal((await s.call('GET', clusterPath('shortLived'))).status, 404);
    assert.equal((await s.call('DELETE', clusterPath('shortLived'))).status, 204);
  });
});
