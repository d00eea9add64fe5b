import type { RoleAssignment, RoleDefinition } from '../../rbac/types.js';
import type { RegistryTokenInfo, ScopeMap } from '../../registry/access/types.js';
import type { ManagedCluster } from '../clusters.js';
import type { ArmRegistry } from '../registries.js';
import { resourceGroupResourceId, resourceId, subscriptionResourceId } from '../resource-ids.js';
import type { ResourceGroupRecord, ResourceRecord, SubscriptionRecord } from '../resource-store.js';
import { subscriptionOf } from '../../rbac/scopes.js';

/** The wire shapes of ARM resources, field for field what az and the SDKs read. */

export function tenantView(tenantId: string): unknown {
  return { id: `/tenants/${tenantId}`, tenantId, tenantCategory: 'Home', displayName: 'Anchorage', defaultDomain: 'anchorage.local', domains: ['anchorage.local'] };
}

export function subscriptionView(s: SubscriptionRecord): unknown {
  return {
    id: subscriptionResourceId(s.subscriptionId), authorizationSource: 'RoleBased', managedByTenants: [],
    subscriptionId: s.subscriptionId, tenantId: s.tenantId, displayName: s.displayName, state: s.state,
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  };
}

export function resourceGroupView(g: ResourceGroupRecord): unknown {
  return {
    id: resourceGroupResourceId(g.subscriptionId, g.name), name: g.name, type: 'Microsoft.Resources/resourceGroups',
    location: g.location, tags: g.tags, properties: { provisioningState: 'Succeeded' },
  };
}

/** An entry of `/resources`: the generic view every resource type shares. */
export function genericResourceView(r: ResourceRecord): unknown {
  return { id: resourceId(r.subscriptionId, r.resourceGroup, r.type, r.name), name: r.name, type: r.type, location: r.location, tags: r.tags };
}

export function registryView(r: ArmRegistry): unknown {
  const sku = r.record.state.sku;
  return {
    id: r.id, name: r.registry.name, type: 'Microsoft.ContainerRegistry/registries', location: r.record.location, tags: r.record.tags,
    sku: { name: sku, tier: sku },
    systemData: { createdAt: r.registry.createdAt, createdByType: 'Application', lastModifiedAt: r.registry.createdAt },
    properties: {
      loginServer: r.registry.loginServer,
      creationDate: r.registry.createdAt,
      provisioningState: 'Succeeded',
      adminUserEnabled: r.adminUserEnabled,
      anonymousPullEnabled: r.registry.anonymousPull,
      publicNetworkAccess: 'Enabled',
      dataEndpointEnabled: false,
      dataEndpointHostNames: [],
      zoneRedundancy: 'Disabled',
      networkRuleBypassOptions: 'AzureServices',
      privateEndpointConnections: [],
      policies: {
        quarantinePolicy: { status: 'disabled' },
        trustPolicy: { type: 'Notary', status: 'disabled' },
        retentionPolicy: { days: 7, status: 'disabled' },
        exportPolicy: { status: 'enabled' },
        azureADAuthenticationAsArmPolicy: { status: 'enabled' },
        softDeletePolicy: { retentionDays: 7, status: 'disabled' },
      },
      encryption: { status: 'disabled' },
    },
  };
}

export function scopeMapView(r: ArmRegistry, m: ScopeMap): unknown {
  return {
    id: `${r.id}/scopeMaps/${m.name}`, name: m.name, type: 'Microsoft.ContainerRegistry/registries/scopeMaps',
    properties: { description: m.description, type: m.type, creationDate: m.createdAt, provisioningState: 'Succeeded', actions: m.actions },
  };
}

export function tokenView(r: ArmRegistry, t: RegistryTokenInfo): unknown {
  return {
    id: `${r.id}/tokens/${t.name}`, name: t.name, type: 'Microsoft.ContainerRegistry/registries/tokens',
    properties: {
      creationDate: t.createdAt, provisioningState: 'Succeeded', scopeMapId: `${r.id}/scopeMaps/${t.scopeMapName}`, status: t.status,
      credentials: { certificates: [], passwords: t.passwords.map((p) => ({ name: p.name, creationTime: p.creationTime, ...(p.expiry ? { expiry: p.expiry } : {}) })) },
    },
  };
}

export function clusterView(c: ManagedCluster): unknown {
  const { record, id } = c;
  const s = record.state;
  const version = typeof s.properties['kubernetesVersion'] === 'string' ? s.properties['kubernetesVersion'] : undefined;
  return {
    id, name: record.name, type: 'Microsoft.ContainerService/ManagedClusters', location: record.location, tags: record.tags, sku: s.sku,
    ...(s.identity ? { identity: s.identity.type === 'SystemAssigned'
      ? { type: 'SystemAssigned', principalId: s.identity.principalId, tenantId: s.identity.tenantId }
      : { type: 'UserAssigned', userAssignedIdentities: s.identity.userAssignedIdentities } } : {}),
    properties: {
      ...s.properties,
      provisioningState: 'Succeeded',
      powerState: { code: 'Running' },
      ...(version ? { currentKubernetesVersion: version } : {}),
      fqdn: s.fqdn,
      azurePortalFQDN: s.fqdn.replace('.hcp.', '.portal.hcp.'),
      nodeResourceGroup: s.nodeResourceGroup,
      // AKS answers the literal "msi" for a managed-identity cluster; that is what the seed's script reads there.
      servicePrincipalProfile: { clientId: s.servicePrincipal?.clientId ?? 'msi' },
      ...(s.kubelet ? { identityProfile: { kubeletidentity: s.kubelet } } : {}),
      maxAgentPools: 100,
    },
  };
}

/** A role definition's id names the subscription it is read through, or none at the root, as ARM's do. */
export function roleDefinitionId(scope: string, name: string): string {
  const subscription = subscriptionOf(scope);
  return `${subscription ? `/subscriptions/${subscription}` : ''}/providers/Microsoft.Authorization/roleDefinitions/${name}`;
}

export function roleDefinitionView(scope: string, r: RoleDefinition): unknown {
  return {
    id: roleDefinitionId(scope, r.name), type: 'Microsoft.Authorization/roleDefinitions', name: r.name,
    properties: {
      roleName: r.roleName, type: r.type, description: r.description, assignableScopes: r.assignableScopes, permissions: r.permissions,
      createdOn: r.createdOn, updatedOn: r.updatedOn, createdBy: null, updatedBy: null,
    },
  };
}

export function roleAssignmentView(a: RoleAssignment): unknown {
  const id = `${a.scope === '/' ? '' : a.scope}/providers/Microsoft.Authorization/roleAssignments/${a.name}`;
  return {
    properties: {
      roleDefinitionId: roleDefinitionId(a.scope, a.roleDefinitionName), principalId: a.principalId, principalType: a.principalType,
      scope: a.scope, condition: null, conditionVersion: null, createdOn: a.createdOn, updatedOn: a.updatedOn,
      createdBy: a.createdBy, updatedBy: a.createdBy, delegatedManagedIdentityResourceId: null, description: a.description,
    },
    id, type: 'Microsoft.Authorization/roleAssignments', name: a.name,
  };
}

/** ARM's list envelope; everything fits one page here, so there is no nextLink. */
export function listView(values: unknown[]): unknown {
  return { value: values };
}
