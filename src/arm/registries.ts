import type { Rbac } from '../rbac/types.js';
import { AccessError, type AdminCredentials, type GeneratedTokenCredentials, type RegistryAccessService, type RegistryTokenInfo, type ScopeMap } from '../registry/access/types.js';
import { RegistryError } from '../registry/errors.js';
import type { RegistryRecord } from '../registry/metadata.js';
import { checkRegistryName } from '../registry/names.js';
import type { RegistryDirectory } from '../registry/registries.js';
import { ArmError, invalidParameter, resourceNotFound } from './errors.js';
import { REGISTRY_TYPE, resourceId } from './resource-ids.js';
import type { ResourceRecord, ResourceStore } from './resource-store.js';
import { checkLocation, checkTags, checkUnmoved, type ResourceTypeService, type SubscriptionService } from './subscriptions.js';

export const REGISTRY_SKUS = ['Basic', 'Standard', 'Premium', 'Classic'] as const;
export type RegistrySku = (typeof REGISTRY_SKUS)[number];

/** What ARM keeps of a registry besides the data plane's record: its sku (location and tags are on the record). */
export interface RegistryState {
  sku: RegistrySku;
}

/** A registry as the resource manager shows it: the ARM record joined with the registry the data plane serves. */
export interface ArmRegistry {
  record: ResourceRecord<RegistryState>;
  registry: RegistryRecord;
  id: string;
  adminUserEnabled: boolean;
}

export interface RegistryProperties {
  sku?: unknown;
  location?: unknown;
  tags?: unknown;
  adminUserEnabled?: unknown;
  anonymousPullEnabled?: unknown;
}

/**
 * `Microsoft.ContainerRegistry/registries`: the registries of RegistryDirectory placed in a subscription and
 * resource group. Names are unique across the server, as ACR's are across Azure (they are DNS names).
 * The admin user, scope maps and tokens belong to RegistryAccessService, which this server may not have
 * yet: without it those calls answer 501 (see `access()`), and everything else works.
 */
export class ArmRegistryService implements ResourceTypeService {
  readonly type = REGISTRY_TYPE;

  constructor(
    private readonly store: ResourceStore,
    private readonly subscriptions: SubscriptionService,
    private readonly directory: RegistryDirectory,
    private readonly rbac: Rbac,
    private readonly accessService: RegistryAccessService | undefined,
  ) {}

  async checkNameAvailability(name: string): Promise<{ nameAvailable: boolean; reason?: 'Invalid' | 'AlreadyExists'; message?: string }> {
    try {
      checkRegistryName(name);
    } catch {
      return { nameAvailable: false, reason: 'Invalid', message: 'The specified resource name is disallowed' };
    }
    const taken = (await this.directory.list()).some((r) => r.name === name.toLowerCase()) || this.store.resourceByName(REGISTRY_TYPE, name);
    return taken ? { nameAvailable: false, reason: 'AlreadyExists', message: `The registry ${name} is already in use.` } : { nameAvailable: true };
  }

  /** PUT: creates the registry, or updates it when it already is in this resource group. */
  async put(subscriptionId: string, resourceGroup: string, name: string, input: RegistryProperties): Promise<{ registry: ArmRegistry; created: boolean }> {
    const group = this.subscriptions.getResourceGroup(subscriptionId, resourceGroup);
    const existing = await this.find(subscriptionId, resourceGroup, name);
    if (existing) {
      checkUnmoved(existing.record, input.location);
      return { registry: await this.update(existing, input), created: false };
    }

    const sku = checkSku(input.sku);
    const location = checkLocation(input.location);
    const tags = checkTags(input.tags) ?? {};
    const adminUserEnabled = optionalBoolean(input.adminUserEnabled, 'adminUserEnabled');
    const anonymousPull = optionalBoolean(input.anonymousPullEnabled, 'anonymousPullEnabled');
    if (adminUserEnabled) this.access();
    const available = await this.checkNameAvailability(name);
    if (available.reason === 'Invalid') throw invalidRegistryName(name);
    if (!available.nameAvailable) throw nameInUse(name);
    let registry: RegistryRecord;
    try {
      registry = await this.directory.create(name, { anonymousPull: anonymousPull ?? false, resourceId: resourceId(group.subscriptionId, group.name, REGISTRY_TYPE, name) });
    } catch (err) {
      // Another request (or the CLI) took the name since the check.
      if (err instanceof RegistryError && err.status === 409) throw nameInUse(name);
      throw err;
    }
    const record: ResourceRecord<RegistryState> = {
      subscriptionId: group.subscriptionId, resourceGroup: group.name, type: REGISTRY_TYPE, name: registry.name,
      location, tags, state: { sku }, createdAt: registry.createdAt,
    };
    this.store.putResource(record);
    if (adminUserEnabled) await this.access().setAdminUserEnabled(registry.name, true);
    return { registry: await this.view(record, registry), created: true };
  }

  /** PATCH: tags, sku, adminUserEnabled, anonymousPullEnabled. */
  async patch(subscriptionId: string, resourceGroup: string, name: string, input: RegistryProperties): Promise<ArmRegistry> {
    return this.update(await this.get(subscriptionId, resourceGroup, name), input);
  }

  async get(subscriptionId: string, resourceGroup: string, name: string): Promise<ArmRegistry> {
    const found = await this.find(subscriptionId, resourceGroup, name);
    if (!found) throw resourceNotFound(REGISTRY_TYPE, resourceGroup, name);
    return found;
  }

  /** The registries of a subscription, or of one of its resource groups. */
  async list(subscriptionId: string, resourceGroup?: string): Promise<ArmRegistry[]> {
    const records = this.subscriptions.resources({ subscriptionId, type: REGISTRY_TYPE, ...(resourceGroup !== undefined ? { resourceGroup } : {}) });
    const result: ArmRegistry[] = [];
    for (const record of records) {
      const loaded = await this.load(record as ResourceRecord<RegistryState>);
      if (loaded) result.push(loaded);
    }
    return result;
  }

  async delete(subscriptionId: string, resourceGroup: string, name: string): Promise<boolean> {
    const found = await this.find(subscriptionId, resourceGroup, name);
    if (!found) return false;
    await this.deleteRecord(found.record);
    return true;
  }

  /** Removes the registry with its content, and every role assignment at or below it. */
  async deleteRecord(record: ResourceRecord): Promise<void> {
    try {
      await this.directory.delete(record.name);
    } catch (err) {
      if (!(err instanceof RegistryError && err.code === 'NAME_UNKNOWN')) throw err;
    }
    this.store.deleteResource(record.subscriptionId, record.resourceGroup, record.type, record.name);
    await this.rbac.deleteAssignmentsOf({ scopePrefix: resourceId(record.subscriptionId, record.resourceGroup, REGISTRY_TYPE, record.name) });
  }

  /** The resource id of a data-plane registry: the scope its role assignments are made at. */
  resourceIdOf(registryName: string): string | undefined {
    const record = this.store.resourceByName(REGISTRY_TYPE, registryName);
    return record && resourceId(record.subscriptionId, record.resourceGroup, REGISTRY_TYPE, record.name);
  }

  /**
   * Places a registry made outside ARM (`anchorage registry create`) in a resource group and records its resource
   * id on the registry, the scope its pulls are authorized at; no-op if placed.
   */
  async adopt(registry: RegistryRecord, subscriptionId: string, resourceGroup: string): Promise<void> {
    if (this.store.resourceByName(REGISTRY_TYPE, registry.name)) return;
    const group = this.subscriptions.getResourceGroup(subscriptionId, resourceGroup);
    this.store.putResource({
      subscriptionId: group.subscriptionId, resourceGroup: group.name, type: REGISTRY_TYPE, name: registry.name,
      location: group.location, tags: {}, state: { sku: 'Standard' } satisfies RegistryState, createdAt: registry.createdAt,
    });
    await this.directory.update(registry.name, { resourceId: resourceId(group.subscriptionId, group.name, REGISTRY_TYPE, registry.name) });
  }

  async listCredentials(r: ArmRegistry): Promise<AdminCredentials> {
    return this.accessCall(() => this.access().adminCredentials(r.registry.name));
  }

  async regenerateCredential(r: ArmRegistry, name: unknown): Promise<AdminCredentials> {
    if (name !== 'password' && name !== 'password2') throw invalidParameter("The password name must be 'password' or 'password2'.");
    return this.accessCall(() => this.access().regenerateAdminPassword(r.registry.name, name));
  }

  async putScopeMap(r: ArmRegistry, name: string, input: { description?: unknown; actions?: unknown }): Promise<ScopeMap> {
    if (!Array.isArray(input.actions) || input.actions.length === 0 || input.actions.some((a) => typeof a !== 'string')) {
      throw invalidParameter('The scope map must have a non-empty list of actions.');
    }
    if (input.description !== undefined && input.description !== null && typeof input.description !== 'string') {
      throw invalidParameter('The scope map description must be a string.');
    }
    const description = (input.description as string | null | undefined) ?? null;
    return this.accessCall(() => this.access().putScopeMap(r.registry.name, { name, description, actions: input.actions as string[] }));
  }

  /** A registry's children are its scope maps and tokens. */
  async childExists(record: ResourceRecord, child: string[]): Promise<boolean> {
    const [type, name, ...deeper] = child;
    if (name === undefined || deeper.length > 0) return false;
    const registry = record.name;
    switch (type!.toLowerCase()) {
      case 'scopemaps': return (await this.accessCall(() => this.access().scopeMap(registry, name))) !== undefined;
      case 'tokens': return (await this.accessCall(() => this.access().token(registry, name))) !== undefined;
      default: return false;
    }
  }

  async scopeMap(r: ArmRegistry, name: string): Promise<ScopeMap> {
    const found = await this.accessCall(() => this.access().scopeMap(r.registry.name, name));
    if (!found) throw childNotFound(r, 'scopeMaps', name);
    return found;
  }

  listScopeMaps(r: ArmRegistry): Promise<ScopeMap[]> {
    return this.accessCall(() => this.access().listScopeMaps(r.registry.name));
  }

  deleteScopeMap(r: ArmRegistry, name: string): Promise<boolean> {
    return this.accessCall(() => this.access().deleteScopeMap(r.registry.name, name));
  }

  async putToken(r: ArmRegistry, name: string, input: { scopeMapId?: unknown; status?: unknown }): Promise<RegistryTokenInfo> {
    if (typeof input.scopeMapId !== 'string') throw invalidParameter('The token must name its scope map in properties.scopeMapId.');
    const scopeMapName = childName(r, 'scopeMaps', input.scopeMapId);
    if (input.status !== undefined && input.status !== 'enabled' && input.status !== 'disabled') {
      throw invalidParameter("The token status must be 'enabled' or 'disabled'.");
    }
    const status = input.status as 'enabled' | 'disabled' | undefined;
    return this.accessCall(() => this.access().putToken(r.registry.name, { name, scopeMapName, ...(status ? { status } : {}) }));
  }

  async token(r: ArmRegistry, name: string): Promise<RegistryTokenInfo> {
    const found = await this.accessCall(() => this.access().token(r.registry.name, name));
    if (!found) throw childNotFound(r, 'tokens', name);
    return found;
  }

  listTokens(r: ArmRegistry): Promise<RegistryTokenInfo[]> {
    return this.accessCall(() => this.access().listTokens(r.registry.name));
  }

  deleteToken(r: ArmRegistry, name: string): Promise<boolean> {
    return this.accessCall(() => this.access().deleteToken(r.registry.name, name));
  }

  async generateCredentials(r: ArmRegistry, input: { tokenId?: unknown; name?: unknown; expiry?: unknown }): Promise<GeneratedTokenCredentials> {
    if (typeof input.tokenId !== 'string') throw invalidParameter('generateCredentials needs the token\'s resource id in tokenId.');
    const token = childName(r, 'tokens', input.tokenId);
    if (input.name !== undefined && input.name !== 'password1' && input.name !== 'password2') {
      throw invalidParameter("The password name must be 'password1' or 'password2'.");
    }
    if (input.expiry !== undefined && (typeof input.expiry !== 'string' || Number.isNaN(Date.parse(input.expiry)))) {
      throw invalidParameter('The expiry must be a date and time.');
    }
    const options = { ...(input.name ? { name: input.name as 'password1' | 'password2' } : {}), ...(input.expiry ? { expiry: input.expiry as string } : {}) };
    return this.accessCall(() => this.access().generateTokenCredentials(r.registry.name, token, options));
  }

  private async update(current: ArmRegistry, input: RegistryProperties): Promise<ArmRegistry> {
    const sku = input.sku === undefined ? current.record.state.sku : checkSku(input.sku);
    const tags = checkTags(input.tags) ?? current.record.tags;
    const adminUserEnabled = optionalBoolean(input.adminUserEnabled, 'adminUserEnabled');
    const anonymousPull = optionalBoolean(input.anonymousPullEnabled, 'anonymousPullEnabled');
    if (adminUserEnabled !== undefined && adminUserEnabled !== current.adminUserEnabled) {
      await this.accessCall(() => this.access().setAdminUserEnabled(current.registry.name, adminUserEnabled));
    }
    const registry = anonymousPull !== undefined && anonymousPull !== current.registry.anonymousPull
      ? await this.directory.update(current.registry.name, { anonymousPull })
      : current.registry;
    const record = { ...current.record, tags, state: { sku } };
    this.store.putResource(record);
    return this.view(record, registry);
  }

  private async find(subscriptionId: string, resourceGroup: string, name: string): Promise<ArmRegistry | undefined> {
    this.subscriptions.getResourceGroup(subscriptionId, resourceGroup);
    const record = this.store.resource(subscriptionId, resourceGroup, REGISTRY_TYPE, name) as ResourceRecord<RegistryState> | undefined;
    return record && this.load(record);
  }

  /** Joins a record with its registry; a record whose registry was deleted outside ARM is dropped. */
  private async load(record: ResourceRecord<RegistryState>): Promise<ArmRegistry | undefined> {
    let registry: RegistryRecord;
    try {
      registry = await this.directory.get(record.name);
    } catch (err) {
      if (!(err instanceof RegistryError && err.code === 'NAME_UNKNOWN')) throw err;
      this.store.deleteResource(record.subscriptionId, record.resourceGroup, record.type, record.name);
      return undefined;
    }
    return this.view(record, registry);
  }

  private async view(record: ResourceRecord<RegistryState>, registry: RegistryRecord): Promise<ArmRegistry> {
    return {
      record, registry,
      id: resourceId(record.subscriptionId, record.resourceGroup, REGISTRY_TYPE, record.name),
      adminUserEnabled: this.accessService ? await this.accessService.adminUserEnabled(registry.name) : false,
    };
  }

  /**
   * The registry-access seam: the admin user, scope maps and tokens exist only when RegistryAccessService is
   * wired in (src/registry/access). Until then every call that needs it is 501 NotImplemented, never a 500.
   */
  private access(): RegistryAccessService {
    if (!this.accessService) {
      throw new ArmError(501, 'NotImplemented', 'The admin user, scope maps and repository-scoped tokens are not available on this server yet.');
    }
    return this.accessService;
  }

  private async accessCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof AccessError)) throw err;
      switch (err.code) {
        case 'NotFound': throw new ArmError(404, 'ResourceNotFound', err.message);
        case 'Conflict': throw new ArmError(409, 'Conflict', err.message);
        case 'InvalidInput': throw invalidParameter(err.message);
        case 'AdminUserDisabled': throw new ArmError(400, 'AdminUserDisabled', err.message);
      }
    }
  }
}

function checkSku(sku: unknown): RegistrySku {
  const name = (sku as { name?: unknown } | undefined)?.name;
  const found = REGISTRY_SKUS.find((s) => typeof name === 'string' && s.toLowerCase() === name.toLowerCase());
  if (!found) throw invalidParameter(`The sku is required and its name must be one of ${REGISTRY_SKUS.join(', ')}.`);
  return found;
}

function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidParameter(`The property ${name} must be true or false.`);
  return value;
}

function nameInUse(name: string): ArmError {
  return new ArmError(409, 'AlreadyInUse', `The registry DNS name ${name.toLowerCase()} is already in use. You can check if the name is already claimed using following API: https://docs.microsoft.com/en-us/rest/api/containerregistry/registries/checknameavailability`);
}

function invalidRegistryName(name: string): ArmError {
  return new ArmError(400, 'InvalidRegistryName', `The registry name '${name}' is invalid: use 5 to 50 letters and digits.`);
}

/** The last segment of a child resource id of this registry (`.../registries/r/scopeMaps/m` → m). */
function childName(r: ArmRegistry, collection: 'scopeMaps' | 'tokens', id: string): string {
  const prefix = `${r.id}/${collection}/`.toLowerCase();
  const name = id.toLowerCase().startsWith(prefix) ? id.slice(prefix.length) : '';
  if (!/^[A-Za-z0-9-_]{5,50}$/.test(name)) throw invalidParameter(`'${id}' is not the id of one of ${r.registry.name}'s ${collection}.`);
  return name;
}

function childNotFound(r: ArmRegistry, collection: string, name: string): ArmError {
  return new ArmError(404, 'ResourceNotFound', `The Resource '${REGISTRY_TYPE}/${r.registry.name}/${collection}/${name}' under resource group '${r.record.resourceGroup}' was not found.`);
}
