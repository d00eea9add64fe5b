import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ROLE_IDS } from '../../../src/rbac/builtin-roles.js';
import { CLUSTER_ID, REGISTRY_ID, startArmTestServer, type ArmTestServer } from '../helpers.js';

const AZ_ASSIGNMENTS = '2020-04-01-preview';
const AZ_DEFINITIONS = '2018-01-01-preview';

describe('resource manager: Microsoft.Authorization role definitions and assignments', () => {
  let s: ArmTestServer;
  let sub: string;
  let acr: string;
  /** The demo cluster's service principal (what the seed's script assigns AcrPull to), with a token. */
  let cluster: { appId: string; objectId: string; token: string };

  before(async () => {
    s = await startArmTestServer();
    sub = `/subscriptions/${s.info.subscriptionId}`;
    acr = REGISTRY_ID(s.info);
    roleDefinitionId = `${sub}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_IDS.acrPull}`;
    const clientId = (await s.call('GET', CLUSTER_ID(s.info))).json.properties.servicePrincipalProfile.clientId as string;
    const principal = (await s.app.identity.principalByAppId(clientId))!;
    const secret = s.app.arm.clusters.nodeSecret(s.app.arm.clusters.get(s.info.subscriptionId, s.info.demo.resourceGroup, s.info.demo.cluster))!;
    cluster = { appId: clientId, objectId: principal.objectId, token: await s.token(clientId, secret) };
  });
  after(async () => { await s.close(); });

  const assignmentsAt = (scope: string) => `${scope}/providers/Microsoft.Authorization/roleAssignments`;
  let roleDefinitionId: string;

  it('finds acrpull by name case-insensitively at the registry scope, as az role assignment create does', async () => {
    const r = await s.call('GET', `${acr}/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent("roleName eq 'acrpull'")}&api-version=${AZ_DEFINITIONS}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.value.length, 1);
    const [d] = r.json.value;
    assert.equal(d.id, `/subscriptions/${s.info.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d`);
    assert.equal(d.name, '7f951dda-4ed3-4680-a7ca-43fe172d538d');
    assert.equal(d.type, 'Microsoft.Authorization/roleDefinitions');
    assert.deepEqual(d.properties.permissions, [{ actions: ['Microsoft.ContainerRegistry/registries/pull/read'], notActions: [], dataActions: [], notDataActions: [] }]);
    assert.equal(d.properties.roleName, 'AcrPull');
    assert.equal(d.properties.type, 'BuiltInRole');
  });

  it('lists and gets role definitions at any scope, the root included, for any authenticated caller', async () => {
    const all = await s.call('GET', `/providers/Microsoft.Authorization/roleDefinitions`, { token: cluster.token });
    assert.ok(all.json.value.length >= 8);
    assert.match(all.json.value[0].id, /^\/providers\/Microsoft\.Authorization\/roleDefinitions\//);
    const owner = await s.call('GET', `${sub}/resourceGroups/${s.info.demo.resourceGroup}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_IDS.owner}`);
    assert.equal(owner.json.properties.roleName, 'Owner');
    assert.equal(owner.json.id, `${sub}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_IDS.owner}`);
    const missing = await s.call('GET', `${sub}/providers/Microsoft.Authorization/roleDefinitions/${randomUUID()}`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'RoleDefinitionDoesNotExist');
    const none = await s.call('GET', `${sub}/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent("roleName eq 'nope'")}`);
    assert.deepEqual(none.json.value, []);
  });

  it('creates, reads, lists and deletes the seed\'s AcrPull assignment, and RBAC decides by it', async () => {
    const pull = { action: 'Microsoft.ContainerRegistry/registries/pull/read' };
    assert.equal((await s.app.rbac.decide(cluster.objectId, pull, acr)).allowed, false);
    const name = randomUUID();
    const put = await s.call('PUT', `${assignmentsAt(acr)}/${name}?api-version=${AZ_ASSIGNMENTS}`,
      { body: { properties: { roleDefinitionId, principalId: cluster.objectId, principalType: 'ServicePrincipal' } } });
    assert.equal(put.status, 201);
    assert.deepEqual({ id: put.json.id, name: put.json.name, type: put.json.type },
      { id: `${acr}/providers/Microsoft.Authorization/roleAssignments/${name}`, name, type: 'Microsoft.Authorization/roleAssignments' });
    assert.equal(put.json.properties.roleDefinitionId, roleDefinitionId);
    assert.equal(put.json.properties.principalId, cluster.objectId);
    assert.equal(put.json.properties.principalType, 'ServicePrincipal');
    assert.equal(put.json.properties.scope, acr);
    assert.equal(put.json.properties.createdBy, (await s.app.identity.principalByAppId(s.info.admin.appId))!.objectId);
    assert.equal((await s.app.rbac.decide(cluster.objectId, pull, acr)).allowed, true);

    // By full id (az role assignment show --ids), at its scope.
    assert.equal((await s.call('GET', put.json.id)).json.name, name);
    // The same PUT again is harmless; the same grant under another name is 409 with the text az looks for.
    assert.equal((await s.call('PUT', put.json.id, { body: { properties: { roleDefinitionId, principalId: cluster.objectId } } })).status, 201);
    const twice = await s.call('PUT', `${assignmentsAt(acr)}/${randomUUID()}`, { body: { properties: { roleDefinitionId, principalId: cluster.objectId } } });
    assert.equal(twice.status, 409);
    assert.deepEqual(twice.json, { error: { code: 'RoleAssignmentExists', message: 'The role assignment already exists.' } });

    const names = (r: { json: any }) => r.json.value.map((a: any) => a.name);
    assert.ok(names(await s.call('GET', `${assignmentsAt(acr)}?$filter=atScope()`)).includes(name));
    assert.ok(names(await s.call('GET', `${assignmentsAt(acr)}?$filter=atScope()`)).length >= 2, 'atScope() includes the Owner above');
    assert.deepEqual(names(await s.call('GET', `${assignmentsAt(sub)}?$filter=${encodeURIComponent(`principalId eq '${cluster.objectId}'`)}`)), [name]);
    assert.deepEqual(names(await s.call('GET', `${assignmentsAt(sub)}?$filter=${encodeURIComponent(`assignedTo('${cluster.objectId}')`)}`)), [name]);
    assert.ok(!names(await s.call('GET', `${assignmentsAt(sub)}?$filter=atScope()`)).includes(name), 'atScope() at the subscription leaves out what is below it');
    assert.ok(names(await s.call('GET', assignmentsAt(sub))).includes(name), 'no filter: at, above and below');

    const del = await s.call('DELETE', put.json.id);
    assert.equal(del.status, 200);
    assert.equal(del.json.name, name);
    assert.equal((await s.app.rbac.decide(cluster.objectId, pull, acr)).allowed, false);
    assert.equal((await s.call('DELETE', put.json.id)).status, 204);
    const gone = await s.call('GET', put.json.id);
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, 'RoleAssignmentNotFound');
  });

  it('assigns AcrPull to a managed-identity cluster\'s kubelet identity as az aks update --attach-acr does (no principalType)', async () => {
    const created = await s.call('PUT', `/subscriptions/${s.info.subscriptionId}/resourceGroups/${s.info.demo.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/attachCluster`,
      { body: { location: 'eastus', identity: { type: 'SystemAssigned' } } });
    const kubelet = created.json.properties.identityProfile.kubeletidentity;
    const r = await s.call('PUT', `${assignmentsAt(acr)}/${randomUUID()}?api-version=${AZ_ASSIGNMENTS}`, { body: { properties: { roleDefinitionId, principalId: kubelet.objectId } } });
    assert.equal(r.status, 201);
    assert.equal(r.json.properties.principalType, 'ServicePrincipal', 'a managed identity is a service principal to RBAC');
    assert.equal((await s.app.rbac.decide(kubelet.objectId, { action: 'Microsoft.ContainerRegistry/registries/pull/read' }, acr)).allowed, true);
  });

  it('refuses an unknown principal with PrincipalNotFound, in the words create-for-rbac retries on', async () => {
    const ghost = randomUUID();
    const r = await s.call('PUT', `${assignmentsAt(acr)}/${randomUUID()}`, { body: { properties: { roleDefinitionId, principalId: ghost } } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { error: { code: 'PrincipalNotFound', message: `Principal ${ghost} does not exist in the directory ${s.info.tenantId}.` } });
  });

  it('validates the rest of the PUT: role, principal type, name, scope', async () => {
    const at = (name: string = randomUUID()) => `${assignmentsAt(acr)}/${name}`;
    const body = (p: object) => ({ body: { properties: { roleDefinitionId, principalId: cluster.objectId, ...p } } });
    assert.equal((await s.call('PUT', at(), body({ roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${randomUUID()}` }))).json.error.code, 'RoleDefinitionDoesNotExist');
    assert.equal((await s.call('PUT', at(), body({ roleDefinitionId: 'acrpull' }))).json.error.code, 'InvalidRoleDefinitionId');
    assert.equal((await s.call('PUT', at(), body({ roleDefinitionId: `/garbage/../x/providers/Microsoft.Authorization/roleDefinitions/${ROLE_IDS.acrPull}` }))).json.error.code, 'InvalidRoleDefinitionId');
    assert.equal((await s.call('PUT', at(), body({ principalType: 'User' }))).json.error.code, 'UnmatchedPrincipalType');
    assert.equal((await s.call('PUT', at('not-a-guid'), body({}))).json.error.code, 'InvalidRoleAssignment');
    const noResource = await s.call('PUT', `${assignmentsAt(`${sub}/resourceGroups/${s.info.demo.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/absent1`)}/${randomUUID()}`, body({}));
    assert.equal(noResource.status, 404);
    assert.equal(noResource.json.error.code, 'ResourceNotFound');
    assert.equal((await s.call('PUT', at(), { body: { properties: 'x' } })).status, 400);
    // Below a registry, only its scope maps and tokens are there to assign at.
    for (const child of ['scopeMaps/nosuchmap', 'tokens/nosuchtoken', 'widgets/x', 'scopeMaps/_repositories_pull/deeper']) {
      const r = await s.call('PUT', `${assignmentsAt(`${acr}/${child}`)}/${randomUUID()}`, body({}));
      assert.equal(r.status, 404, child);
      assert.equal(r.json.error.code, 'ResourceNotFound', child);
    }
    const atMap = await s.call('PUT', `${assignmentsAt(`${acr}/scopeMaps/_repositories_pull`)}/${randomUUID()}`, body({}));
    assert.equal(atMap.status, 201, JSON.stringify(atMap.json));
    assert.equal((await s.call('DELETE', `${assignmentsAt(`${acr}/scopeMaps/_repositories_pull`)}/${atMap.json.name}`)).status, 200);

    const elsewhere = await s.call('PUT', at(), body({ scope: sub }));
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.json.error.code, 'InvalidCreateRoleAssignmentRequest');
    const conditional = await s.call('PUT', at(), body({ condition: "@Resource[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWith 'team-a/'", conditionVersion: '2.0' }));
    assert.equal(conditional.status, 400, 'a condition that would not be enforced is refused, never dropped');
    assert.equal(conditional.json.error.code, 'InvalidRoleAssignmentCondition');
    const sameScope = await s.call('PUT', at(), body({ scope: acr.toUpperCase(), condition: null }));
    assert.equal(sameScope.status, 201, 'the URI\'s scope, in any case, and a null condition are what az sends');
    assert.equal((await s.call('DELETE', `${assignmentsAt(acr)}/${sameScope.json.name}`)).status, 200);
  });

  it('forbids creating an assignment without Owner or User Access Administrator at the scope (403 AuthorizationFailed)', async () => {
    const r = await s.call('PUT', `${assignmentsAt(acr)}/${randomUUID()}`,
      { token: cluster.token, body: { properties: { roleDefinitionId, principalId: cluster.objectId } } });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'AuthorizationFailed');
    assert.equal(r.json.error.message, `The client '${cluster.appId}' with object id '${cluster.objectId}' does not have authorization to perform action `
      + `'Microsoft.Authorization/roleAssignments/write' over scope '${acr}' or the scope is invalid. If access was recently granted, please refresh your credentials.`);

    // Contributor may manage the registry but not its assignments; User Access Administrator may.
    const contributor = await s.call('PUT', `${assignmentsAt(acr)}/${randomUUID()}`,
      { body: { properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_IDS.contributor}`, principalId: cluster.objectId } } });
    assert.equal(contributor.status, 201);
    assert.equal((await s.call('PATCH', acr, { token: cluster.token, body: { tags: { by: 'contributor' } } })).status, 200);
    const stillForbidden = await s.call('PUT', `${assignmentsAt(acr)}/${randomUUID()}`,
      { token: cluster.token, body: { properties: { roleDefinitionId, principalId: cluster.objectId } } });
    assert.equal(stillForbidden.status, 403);
    assert.match(stillForbidden.json.error.details[0].message, /excludes it by notActions 'Microsoft\.Authorization\/\*\/Write'/);

    await s.call('PUT', `${assignmentsAt(acr)}/${randomUUID()}`,
      { body: { properties: { roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${ROLE_IDS.userAccessAdministrator}`, principalId: cluster.objectId } } });
    const allowed = await s.call('PUT', `${assignmentsAt(acr)}/${randomUUID()}`,
      { token: cluster.token, body: { properties: { roleDefinitionId, principalId: cluster.objectId } } });
    assert.equal(allowed.status, 201);
    // ...but only at and below where it holds the role.
    const above = await s.call('PUT', `${assignmentsAt(sub)}/${randomUUID()}`,
      { token: cluster.token, body: { properties: { roleDefinitionId, principalId: cluster.objectId } } });
    assert.equal(above.status, 403);
    assert.equal((await s.call('GET', `${assignmentsAt(sub)}?$filter=atScope()`, { token: cluster.token })).status, 403);
  });
});
