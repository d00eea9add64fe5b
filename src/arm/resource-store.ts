/**
 * What the resource manager persists of its own: subscriptions, resource groups, and tracked resources
 * (registries and clusters) with the ARM-side state the planes behind them do not keep (resource group,
 * location, tags, sku, a cluster's identities). Names compare case-insensitively, as ARM's do.
 */

export interface SubscriptionRecord {
  subscriptionId: string;
  displayName: string;
  tenantId: string;
  state: 'Enabled';
}

export interface ResourceGroupRecord {
  subscriptionId: string;
  name: string;
  location: string;
  tags: Record<string, string>;
}

export interface ResourceRecord<State = unknown> {
  subscriptionId: string;
  resourceGroup: string;
  /** The canonical type, e.g. Microsoft.ContainerRegistry/registries. */
  type: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  /** The resource type's own fields, owned by its service. */
  state: State;
  createdAt: string;
}

export interface ResourceStore {
  putSubscription(s: SubscriptionRecord): void;
  subscription(id: string): SubscriptionRecord | undefined;
  subscriptions(): SubscriptionRecord[];

  /** Creates or replaces; returns whether it was new. */
  putResourceGroup(g: ResourceGroupRecord): boolean;
  resourceGroup(subscriptionId: string, name: string): ResourceGroupRecord | undefined;
  resourceGroups(subscriptionId: string): ResourceGroupRecord[];
  deleteResourceGroup(subscriptionId: string, name: string): boolean;

  /** Creates or replaces; returns whether it was new. */
  putResource(r: ResourceRecord): boolean;
  resource(subscriptionId: string, resourceGroup: string, type: string, name: string): ResourceRecord | undefined;
  /** A resource of a type by name alone, for types whose names are unique everywhere (registries). */
  resourceByName(type: string, name: string): ResourceRecord | undefined;
  resources(query: { subscriptionId: string; resourceGroup?: string; type?: string }): ResourceRecord[];
  deleteResource(subscriptionId: string, resourceGroup: string, type: string, name: string): boolean;
  close(): void;
}
