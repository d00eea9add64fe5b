import type { Rbac } from '../rbac/types.js';
import { ArmError, invalidParameter, resourceGroupNotFound, subscriptionNotFound } from './errors.js';
import { resourceGroupResourceId } from './resource-ids.js';
import type { ResourceGroupRecord, ResourceRecord, ResourceStore, SubscriptionRecord } from './resource-store.js';

/**
 * A resource type's service, as far as the rest of ARM needs it: its resources go with their group, and a role
 * assignment may name a child below one (a registry's scope map) only if the type says it exists.
 */
export interface ResourceTypeService {
  readonly type: string;
  deleteRecord(record: ResourceRecord): Promise<void>;
  /** Whether `child` (`['scopeMaps', 'name']`) names something below the resource; types without children say no. */
  childExists?(record: ResourceRecord, child: string[]): Promise<boolean>;
}

/** ARM's rule for resource group names. */
const GROUP_NAME = /^[-\w._()]{1,90}$/u;

/** Subscriptions and their resource groups. */
export class SubscriptionService {
  private readonly types = new Map<string, ResourceTypeService>();

  constructor(private readonly store: ResourceStore, private readonly rbac: Rbac) {}

  /** Lets a resource type's resources be removed with their resource group. */
  registerType(service: ResourceTypeService): void {
    this.types.set(service.type.toLowerCase(), service);
  }

  async childExists(record: ResourceRecord, child: string[]): Promise<boolean> {
    return (await this.types.get(record.type.toLowerCase())?.childExists?.(record, child)) ?? false;
  }

  ensureSubscription(s: SubscriptionRecord): void {
    this.store.putSubscription(s);
  }

  list(): SubscriptionRecord[] {
    return this.store.subscriptions();
  }

  get(subscriptionId: string): SubscriptionRecord {
    const found = this.store.subscription(subscriptionId);
    if (!found) throw subscriptionNotFound(subscriptionId);
    return found;
  }

  /** Creates a resource group or updates its tags; its location cannot change, as in ARM. */
  putResourceGroup(input: { subscriptionId: string; name: string; location?: unknown; tags?: unknown }): { group: ResourceGroupRecord; created: boolean } {
    this.get(input.subscriptionId);
    if (!GROUP_NAME.test(input.name) || input.name.endsWith('.')) {
      throw new ArmError(400, 'InvalidResourceGroup', `The provided resource group name '${input.name}' has these invalid characters. The name can only be a letter, digit, '-', '.', '_', '(', ')' and cannot end with '.'`);
    }
    const existing = this.store.resourceGroup(input.subscriptionId, input.name);
    const location = checkLocation(input.location, existing?.location);
    if (existing && normalizeLocation(existing.location) !== location) {
      throw new ArmError(409, 'InvalidResourceGroupLocation', `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`);
    }
    const group: ResourceGroupRecord = {
      subscriptionId: input.subscriptionId.toLowerCase(),
      name: existing?.name ?? input.name,
      location: existing?.location ?? location,
      tags: checkTags(input.tags) ?? existing?.tags ?? {},
    };
    const created = this.store.putResourceGroup(group);
    return { group, created };
  }

  patchResourceGroup(subscriptionId: string, name: string, patch: { tags?: unknown }): ResourceGroupRecord {
    const group = this.getResourceGroup(subscriptionId, name);
    const updated = { ...group, tags: checkTags(patch.tags) ?? group.tags };
    this.store.putResourceGroup(updated);
    return updated;
  }

  getResourceGroup(subscriptionId: string, name: string): ResourceGroupRecord {
    this.get(subscriptionId);
    const found = this.store.resourceGroup(subscriptionId, name);
    if (!found) throw resourceGroupNotFound(name);
    return found;
  }

  listResourceGroups(subscriptionId: string): ResourceGroupRecord[] {
    this.get(subscriptionId);
    return this.store.resourceGroups(subscriptionId);
  }

  /** Deletes a resource group with every resource in it and every role assignment at or below it. */
  async deleteResourceGroup(subscriptionId: string, name: string): Promise<boolean> {
    this.get(subscriptionId);
    const group = this.store.resourceGroup(subscriptionId, name);
    if (!group) return false;
    for (const record of this.store.resources({ subscriptionId, resourceGroup: group.name })) {
      const service = this.types.get(record.type.toLowerCase());
      if (service) await service.deleteRecord(record);
      else this.store.deleteResource(record.subscriptionId, record.resourceGroup, record.type, record.name);
    }
    await this.rbac.deleteAssignmentsOf({ scopePrefix: resourceGroupResourceId(subscriptionId, group.name) });
    return this.store.deleteResourceGroup(subscriptionId, group.name);
  }

  /** The resources of a subscription, optionally of one group and one type. */
  resources(query: { subscriptionId: string; resourceGroup?: string; type?: string }): ResourceRecord[] {
    if (query.resourceGroup !== undefined) this.getResourceGroup(query.subscriptionId, query.resourceGroup);
    else this.get(query.subscriptionId);
    return this.store.resources(query);
  }
}

/** ARM locations compare without case or spaces ("East US" is "eastus"). */
export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}

export function checkLocation(location: unknown, fallback?: string): string {
  if (location === undefined && fallback !== undefined) return normalizeLocation(fallback);
  if (typeof location !== 'string' || location.trim() === '') {
    throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
  }
  const normalized = normalizeLocation(location);
  // There is no fixed list of regions here, but a location goes into names and host names (MC_ groups, cluster FQDNs).
  if (!/^[a-z][a-z0-9]{1,39}$/.test(normalized)) {
    throw new ArmError(400, 'LocationNotAvailableForResourceType', `The provided location '${location}' is not available: a location is a region name of letters and digits, such as 'eastus' or 'West Europe'.`);
  }
  return normalized;
}

/** A PUT of a resource that exists may restate its location but not change it: ARM does not move resources. */
export function checkUnmoved(record: ResourceRecord, location: unknown): void {
  if (location === undefined || location === null) return;
  const wanted = checkLocation(location);
  if (wanted !== normalizeLocation(record.location)) {
    throw new ArmError(409, 'InvalidResourceLocation', `The resource '${record.name}' already exists in location '${record.location}' in resource group '${record.resourceGroup}'. A resource with the same name cannot be created in location '${wanted}'. Please select a new resource name.`);
  }
}

/** Azure's limits on tags: 50 a resource, names up to 512 characters without <>%&\?/, values up to 256. */
const MAX_TAGS = 50;
const MAX_TAG_NAME = 512;
const MAX_TAG_VALUE = 256;

export function checkTags(tags: unknown): Record<string, string> | undefined {
  if (tags === undefined || tags === null) return undefined;
  if (typeof tags !== 'object' || Array.isArray(tags) || Object.values(tags).some((v) => typeof v !== 'string')) {
    throw invalidParameter('Tags must be an object whose values are strings.');
  }
  const entries = Object.entries(tags as Record<string, string>);
  if (entries.length > MAX_TAGS) throw invalidParameter(`A resource can have at most ${MAX_TAGS} tags; ${entries.length} were given.`);
  for (const [name, value] of entries) {
    if (name.trim() === '' || name.length > MAX_TAG_NAME || /[<>%&\\?/]/.test(name)) {
      throw new ArmError(400, 'InvalidTagNameCharacters', `The tag name '${name.slice(0, 64)}' is invalid: use 1 to ${MAX_TAG_NAME} characters, none of <, >, %, &, \\, ? and /.`);
    }
    if (value.length > MAX_TAG_VALUE) throw invalidParameter(`The value of tag '${name}' is longer than ${MAX_TAG_VALUE} characters.`);
  }
  return tags as Record<string, string>;
}
