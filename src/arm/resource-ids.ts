/** ARM resource ids: how they are built, and what a scope names. */

export const REGISTRY_TYPE = 'Microsoft.ContainerRegistry/registries';
export const CLUSTER_TYPE = 'Microsoft.ContainerService/managedClusters';

export function subscriptionResourceId(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}`;
}

export function resourceGroupResourceId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

/** AKS spells the segment `resourcegroups` in its ids; ARM ids compare case-insensitively, so both are right. */
export function resourceId(subscriptionId: string, resourceGroup: string, type: string, name: string): string {
  const groups = type.toLowerCase() === CLUSTER_TYPE.toLowerCase() ? 'resourcegroups' : 'resourceGroups';
  return `/subscriptions/${subscriptionId}/${groups}/${resourceGroup}/providers/${type}/${name}`;
}

export type ParsedScope =
  | { kind: 'root' }
  | { kind: 'subscription'; subscriptionId: string }
  | { kind: 'resourceGroup'; subscriptionId: string; resourceGroup: string }
  /** A top-level resource, possibly with a child path below it (registries/r/scopeMaps/m). */
  | { kind: 'resource'; subscriptionId: string; resourceGroup: string; type: string; name: string; child: string[] }
  | { kind: 'unknown' };

/** What a normalised scope names, by its segments. */
export function parseScope(scope: string): ParsedScope {
  const s = scope.split('/').filter(Boolean);
  if (s.length === 0) return { kind: 'root' };
  if (s[0]!.toLowerCase() !== 'subscriptions' || s.length < 2) return { kind: 'unknown' };
  const subscriptionId = s[1]!;
  if (s.length === 2) return { kind: 'subscription', subscriptionId };
  if (s[2]!.toLowerCase() !== 'resourcegroups' || s.length < 4) return { kind: 'unknown' };
  const resourceGroup = s[3]!;
  if (s.length === 4) return { kind: 'resourceGroup', subscriptionId, resourceGroup };
  if (s[4]!.toLowerCase() !== 'providers' || s.length < 7) return { kind: 'unknown' };
  return { kind: 'resource', subscriptionId, resourceGroup, type: `${s[5]}/${s[6]}`, name: s[7] ?? '', child: s.slice(8) };
}
