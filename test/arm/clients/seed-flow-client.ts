/**
 * Flow 1 of the seed with Microsoft's own Node clients, unmodified, as a child process of sdks.test.ts (Node reads
 * NODE_EXTRA_CA_CERTS, the local CA, only at start-up). Prints one JSON line with what each step saw.
 */
import { randomUUID } from 'node:crypto';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { ResourceManagementClient } from '@azure/arm-resources';
import { ClientSecretCredential } from '@azure/identity';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const endpoint = env('ARM_ENDPOINT');
const subscriptionId = env('SUBSCRIPTION_ID');
const resourceGroup = env('RESOURCE_GROUP');
/** The audience the identity plane issues resource-manager tokens for (the SDKs default to `${endpoint}/.default`). */
const ARM_SCOPE = 'https://management.azure.com/.default';

const credentialOf = (clientId: string, secret: string) =>
  new ClientSecretCredential(env('TENANT_ID'), clientId, secret, { authorityHost: env('AUTHORITY_HOST'), disableInstanceDiscovery: true });
const admin = credentialOf(env('ADMIN_ID'), env('ADMIN_SECRET'));

const containerService = new ContainerServiceClient(admin, subscriptionId, { endpoint, credentials: { scopes: [ARM_SCOPE] } });
const containerRegistry = new ContainerRegistryManagementClient(admin, subscriptionId, { endpoint, credentials: { scopes: [ARM_SCOPE] } });
const authorization = new AuthorizationManagementClient(admin, subscriptionId, { endpoint, credentialScopes: [ARM_SCOPE] });
const resources = new ResourceManagementClient(admin, subscriptionId, { endpoint, credentialScopes: [ARM_SCOPE] });

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** What `az role assignment create --assignee <appId>` asks Graph: the service principal whose names hold the appId. */
async function objectIdOf(appId: string): Promise<string> {
  const token = await admin.getToken('https://graph.microsoft.com/.default');
  const filter = encodeURIComponent(`servicePrincipalNames/any(c:c eq '${appId}')`);
  const res = await fetch(`${endpoint}/v1.0/servicePrincipals?$filter=${filter}`, { headers: { Authorization: `Bearer ${token.token}` } });
  const body = await res.json() as { value: Array<{ id: string }> };
  if (!res.ok || body.value.length !== 1) throw new Error(`Graph lookup of ${appId} failed: ${res.status} ${JSON.stringify(body)}`);
  return body.value[0]!.id;
}

const errorOf = (err: unknown) => ({ statusCode: (err as { statusCode?: number }).statusCode, code: (err as { code?: string }).code, message: (err as Error).message });

async function main(): Promise<unknown> {
  // CLIENT_ID=$(az aks show ... --query servicePrincipalProfile.clientId)
  const cluster = await containerService.managedClusters.get(resourceGroup, env('CLUSTER_NAME'));
  const clientId = cluster.servicePrincipalProfile!.clientId;
  // ACR_ID=$(az acr show ... --query id)
  const registry = await containerRegistry.registries.get(resourceGroup, env('REGISTRY_NAME'));
  const acrId = registry.id!;
  // az role assignment create --assignee $CLIENT_ID --role acrpull --scope $ACR_ID
  const principalId = await objectIdOf(clientId);
  const [acrPull] = await collect(authorization.roleDefinitions.list(acrId, { filter: "roleName eq 'acrpull'" }));
  const name = randomUUID();
  const created = await authorization.roleAssignments.create(acrId, name, {
    roleDefinitionId: acrPull!.id!, principalId, principalType: 'ServicePrincipal',
  });
  const atScope = await collect(authorization.roleAssignments.listForScope(acrId, { filter: 'atScope()' }));
  const ofPrincipal = await collect(authorization.roleAssignments.listForSubscription({ filter: `principalId eq '${principalId}'` }));
  const byId = await authorization.roleAssignments.getById(created.id!);

  // The cluster's own identity may not grant roles.
  const clusterCredential = credentialOf(clientId, env('CLUSTER_SECRET'));
  const asCluster = new AuthorizationManagementClient(clusterCredential, subscriptionId, { endpoint, credentialScopes: [ARM_SCOPE] });
  const forbidden = await asCluster.roleAssignments.create(acrId, randomUUID(), { roleDefinitionId: acrPull!.id!, principalId })
    .then(() => undefined, errorOf);
  const duplicate = await authorization.roleAssignments.create(acrId, randomUUID(), { roleDefinitionId: acrPull!.id!, principalId })
    .then(() => undefined, errorOf);

  const deleted = await authorization.roleAssignments.delete(acrId, name);
  const afterDelete = await collect(authorization.roleAssignments.listForScope(acrId, { filter: `principalId eq '${principalId}'` }));

  // The resource calls az makes around it, through the SDKs' long-running-operation pollers.
  const registriesByType = await collect(resources.resources.list({ filter: "resourceType eq 'Microsoft.ContainerRegistry/registries'" }));
  const group = await resources.resourceGroups.get(resourceGroup);
  const newRegistry = await containerRegistry.registries.create(resourceGroup, 'sdkregistry', { location: 'eastus', sku: { name: 'Basic' } });
  const newCluster = await containerService.managedClusters.createOrUpdate(resourceGroup, 'sdkCluster', {
    location: 'eastus', identity: { type: 'SystemAssigned' }, dnsPrefix: 'sdk',
  });
  await containerRegistry.registries.delete(resourceGroup, 'sdkregistry');
  await containerService.managedClusters.delete(resourceGroup, 'sdkCluster');
  const missing = await containerRegistry.registries.get(resourceGroup, 'sdkregistry').then(() => undefined, errorOf);

  return {
    clientId, acrId, principalId, acrPullId: acrPull!.id, loginServer: registry.loginServer,
    created: { name: created.name, scope: created.scope, principalId: created.principalId, roleDefinitionId: created.roleDefinitionId },
    atScope: atScope.map((a) => a.name), ofPrincipal: ofPrincipal.map((a) => a.name), byId: byId.name,
    forbidden, duplicate, deleted: deleted?.name, afterDelete: afterDelete.map((a) => a.name),
    registriesByType: registriesByType.map((r) => r.name), groupLocation: group.location,
    newRegistry: { loginServer: newRegistry.loginServer, provisioningState: newRegistry.provisioningState },
    newCluster: { clientId: newCluster.servicePrincipalProfile?.clientId, kubelet: newCluster.identityProfile?.['kubeletidentity']?.clientId },
    missing,
  };
}

main().then((result) => console.log(JSON.stringify(result)), (err: unknown) => {
  console.log(JSON.stringify({ failed: errorOf(err), stack: (err as Error).stack }));
});
