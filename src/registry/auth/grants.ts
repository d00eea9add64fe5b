import type { Principal } from '../../identity/types.js';
import type { Rbac } from '../../rbac/types.js';
import { permissionsOn, readsAllMetadata, type RepositoryPermission } from '../access/scope-maps.js';
import type { RegistryCredential } from '../access/types.js';
import type { RegistryRecord } from '../metadata.js';
import { REPOSITORY_ACTIONS, type RepositoryAction, type ResourceActions } from './scopes.js';

/** Who asks for access: an Entra principal, the admin user or a repository token, or nobody. */
export type Caller =
  | { kind: 'principal'; principal: Principal }
  | { kind: 'credential'; credential: RegistryCredential }
  /** Whoever holds a registry access token presented as a password: what the token grants, no more. */
  | { kind: 'holder'; access: readonly ResourceActions[] }
  | { kind: 'anonymous' };

/** ACR's token actions ← the Azure RBAC actions that grant them at the registry's scope (classic ACR roles). */
const RBAC_ACTION: Record<RepositoryAction, string> = {
  pull: 'Microsoft.ContainerRegistry/registries/pull/read',
  push: 'Microsoft.ContainerRegistry/registries/push/write',
  delete: 'Microsoft.ContainerRegistry/registries/artifacts/delete',
  metadata_read: 'Microsoft.ContainerRegistry/registries/pull/read',
  metadata_write: 'Microsoft.ContainerRegistry/registries/push/write',
};
/** Listing the catalog: AcrPull may, as on ACR. */
const CATALOG_RBAC_ACTION = RBAC_ACTION.pull;

/** ACR's token actions ← the scope-map permissions that grant them. */
const SCOPE_MAP_PERMISSION: Record<RepositoryAction, RepositoryPermission> = {
  pull: 'content/read',
  push: 'content/write',
  delete: 'content/delete',
  metadata_read: 'metadata/read',
  metadata_write: 'metadata/write',
};

export interface Grant {
  /** The requested resources with the actions granted on each; resources with none granted are left out. */
  granted: ResourceActions[];
  /** Why each refused action was refused, for error messages. */
  refusals: string[];
}

/**
 * Decides which of the requested actions a caller gets. Entra principals are decided by the one authorization
 * function, Rbac.decide, at the registry's resource id (its cached decisions are dropped whenever an assignment
 * changes); a repository token by its scope map; the admin user gets everything; nobody gets pull (and the
 * metadata read that goes with it), and only when the registry allows anonymous pull. Unknown resource types and actions are never granted.
 */
export class AccessGranter {
  constructor(private readonly rbac: Rbac, private readonly scopeOf: (registry: RegistryRecord) => string) {}

  async grant(registry: RegistryRecord, caller: Caller, requested: readonly ResourceActions[]): Promise<Grant> {
    const granted: ResourceActions[] = [];
    const refusals: string[] = [];
    for (const resource of requested) {
      const asked = resource.type === 'repository' ? expand(resource.actions) : resource.type === 'registry' && resource.name === 'catalog' ? ['*'] : [];
      const allowed: string[] = [];
      for (const action of asked) {
        const why = await this.refusal(registry, caller, resource, action);
        if (why === undefined) allowed.push(action);
        else refusals.push(why);
      }
      if (asked.length === 0) refusals.push(`the scope ${resource.type}:${resource.name} is not one this registry grants`);
      if (allowed.length) granted.push({ type: resource.type, name: resource.name, actions: allowed });
    }
    return { granted, refusals };
  }

  /** The RBAC actions a principal holds on the registry, for a refresh token's `permissions` summary. */
  async rbacPermissions(registry: RegistryRecord, principal: Principal): Promise<string[]> {
    const scope = this.scopeOf(registry);
    const held: string[] = [];
    for (const action of new Set(Object.values(RBAC_ACTION))) {
      if ((await this.rbac.decide(principal.objectId, { action }, scope)).allowed) held.push(action);
    }
    return held;
  }

  /** undefined when the action is granted, else the reason it is not. */
  private async refusal(registry: RegistryRecord, caller: Caller, resource: ResourceActions, action: string): Promise<string | undefined> {
    const catalog = resource.type === 'registry';
    switch (caller.kind) {
      case 'anonymous':
        if (!registry.anonymousPull) return `registry ${registry.name} does not allow anonymous pull; authenticate`;
        // Reading a repository's metadata shows no more than pulling it does (its tags, digests and sizes).
        return !catalog && (action === 'pull' || action === 'metadata_read') ? undefined : `anonymous access to registry ${registry.name} is pull only`;
      case 'credential': {
        const c = caller.credential;
        if (c.kind === 'admin') return undefined;
        const ok = catalog ? readsAllMetadata(c.actions) : permissionsOn(c.actions, resource.name).has(SCOPE_MAP_PERMISSION[action as RepositoryAction]);
        return ok ? undefined : `the scope map ${c.scopeMap} of token ${c.username} does not allow ${action} on ${resource.type}:${resource.name}`;
      }
      case 'holder': {
        const held = caller.access.find((a) => a.type === resource.type && a.name === resource.name);
        return held?.actions.includes(action) ? undefined : `the presented access token does not grant ${action} on ${resource.type}:${resource.name}`;
      }
      case 'principal': {
        const decision = await this.rbac.decide(caller.principal.objectId, { action: catalog ? CATALOG_RBAC_ACTION : RBAC_ACTION[action as RepositoryAction] }, this.scopeOf(registry));
        return decision.allowed ? undefined : decision.reason;
      }
    }
  }
}

function expand(actions: readonly string[]): RepositoryAction[] {
  if (actions.includes('*')) return [...REPOSITORY_ACTIONS];
  return REPOSITORY_ACTIONS.filter((a) => actions.includes(a));
}
