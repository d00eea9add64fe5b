import type { IdentityService } from '../identity/types.js';
import { normalizeScope } from '../rbac/scopes.js';
import type { Rbac, RoleAssignment, RoleDefinition } from '../rbac/types.js';
import { ArmError, resourceGroupNotFound, resourceNotFound, subscriptionNotFound } from './errors.js';
import { fieldValue, onlyClauses, parseFilter } from './odata-filter.js';
import { parseScope } from './resource-ids.js';
import type { ResourceStore } from './resource-store.js';
import type { SubscriptionService } from './subscriptions.js';
import { GUID_SOURCE } from '../guid.js';

/** A role definition's id (at a subscription or at the root), or its bare GUID. */
const ROLE_DEFINITION_ID = new RegExp(`^(?:(?:/subscriptions/${GUID_SOURCE})?/providers/Microsoft\\.Authorization/roleDefinitions/)?(${GUID_SOURCE})$`, 'i');
const PRINCIPAL_TYPES = ['ServicePrincipal', 'User', 'Group'] as const;

/**
 * `Microsoft.Authorization/roleAssignments` and `roleDefinitions` at any scope: RBAC's store and
 * definitions, with what ARM checks on top: the scope exists, the principal is in the directory and of
 * the type the caller says, the role definition id is well formed.
 */
export class RoleAssignmentService {
  constructor(
    private readonly rbac: Rbac,
    private readonly identity: IdentityService,
    private readonly store: ResourceStore,
    private readonly subscriptions: SubscriptionService,
  ) {}

  async create(scope: string, name: string, body: { roleDefinitionId?: unknown; principalId?: unknown; principalType?: unknown; description?: unknown; scope?: unknown; condition?: unknown }, createdBy: string): Promise<RoleAssignment> {
    await this.checkScopeExists(scope);
    if (body.scope !== undefined && body.scope !== null && (typeof body.scope !== 'string' || normalizeScope(body.scope).toLowerCase() !== normalizeScope(scope).toLowerCase())) {
      throw new ArmError(400, 'InvalidCreateRoleAssignmentRequest', `The role assignment scope '${String(body.scope)}' must match the scope specified on the URI '${scope}'.`);
    }
    // Storing a condition that is never evaluated would grant more than the caller asked for.
    if (body.condition !== undefined && body.condition !== null) {
      throw new ArmError(400, 'InvalidRoleAssignmentCondition', 'Role assignment conditions (ABAC) are not supported here: assign the role without properties.condition, at the narrowest scope that fits.');
    }
    if (typeof body.roleDefinitionId !== 'string') throw new ArmError(400, 'InvalidRoleDefinitionId', 'The role definition ID is required in properties.roleDefinitionId.');
    const roleId = ROLE_DEFINITION_ID.exec(body.roleDefinitionId.trim())?.[1];
    if (!roleId) throw new ArmError(400, 'InvalidRoleDefinitionId', `The role definition ID '${body.roleDefinitionId}' is not valid.`);
    if (typeof body.principalId !== 'string' || body.principalId === '') {
      throw new ArmError(400, 'InvalidPrincipalId', 'The principal ID is required in properties.principalId.');
    }
    const principal = await this.identity.principalByObjectId(body.principalId);
    if (!principal) {
      throw new ArmError(400, 'PrincipalNotFound', `Principal ${body.principalId} does not exist in the directory ${this.identity.defaultTenantId}.`);
    }
    // Managed identities are service principals to RBAC, as in Entra ID.
    const actualType = 'ServicePrincipal';
    if (body.principalType !== undefined && body.principalType !== null) {
      const given = PRINCIPAL_TYPES.find((t) => typeof body.principalType === 'string' && t.toLowerCase() === body.principalType.toLowerCase());
      if (given !== actualType) {
        throw new ArmError(400, 'UnmatchedPrincipalType', `The PrincipalId '${principal.objectId}' has type '${actualType}' , which is different from specified PrincipalType '${String(body.principalType)}'.`);
      }
    }
    if (body.description !== undefined && body.description !== null && typeof body.description !== 'string') {
      throw new ArmError(400, 'InvalidRequestContent', 'The role assignment description must be a string.');
    }
    return this.rbac.createAssignment({
      name, scope, roleDefinitionName: roleId, principalId: principal.objectId, principalType: actualType,
      description: (body.description as string | null | undefined) ?? null, createdBy,
    });
  }

  async get(scope: string, name: string): Promise<RoleAssignment> {
    const found = await this.rbac.assignment(scope, name);
    if (!found) throw assignmentNotFound();
    return found;
  }

  delete(scope: string, name: string): Promise<RoleAssignment | undefined> {
    return this.rbac.deleteAssignment(scope, name);
  }

  /**
   * Lists with ARM's filters: none (at, above and below the scope), `atScope()` (at and above),
   * `principalId eq '...'` and `assignedTo('...')` (one principal's; there are no groups here), and `and` of them.
   */
  async list(scope: string, filter: string | null): Promise<RoleAssignment[]> {
    await this.checkScopeExists(scope);
    const clauses = parseFilter(filter);
    onlyClauses(clauses, { fields: ['principalid'], fns: { atscope: 'none', assignedto: 'argument' } }, filter);
    const atScope = clauses.some((c) => 'fn' in c && c.fn === 'atscope');
    const assignedTo = clauses.find((c) => 'fn' in c && c.fn === 'assignedto');
    const principalId = fieldValue(clauses, 'principalid') ?? (assignedTo && 'fn' in assignedTo ? assignedTo.arg : undefined);
    return this.rbac.listAssignments({ scope, mode: atScope ? 'atScope' : 'atAndBelow', ...(principalId !== undefined ? { principalId } : {}) });
  }

  /** Role definitions, all or `roleName eq '...'` (case-insensitive, as ARM matches it) or `type eq '...'`. */
  async roleDefinitions(filter: string | null): Promise<RoleDefinition[]> {
    const clauses = parseFilter(filter);
    onlyClauses(clauses, { fields: ['rolename', 'type'] }, filter);
    const roleName = fieldValue(clauses, 'rolename');
    const type = fieldValue(clauses, 'type');
    const found = await this.rbac.roleDefinitions(roleName !== undefined ? { roleName } : {});
    return found.filter((r) => type === undefined || r.type.toLowerCase() === type.toLowerCase());
  }

  async roleDefinition(name: string): Promise<RoleDefinition> {
    const found = await this.rbac.roleDefinition(name);
    if (!found) throw new ArmError(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${name}' does not exist.`);
    return found;
  }

  /** Assignments need a scope that exists: the root, a subscription, a resource group, or a resource this server has. */
  async checkScopeExists(scope: string): Promise<void> {
    const parsed = parseScope(normalizeScope(scope));
    switch (parsed.kind) {
      case 'root':
        return;
      case 'unknown':
        throw new ArmError(400, 'InvalidScope', `The scope '${scope}' is not valid.`);
      default: {
        if (!this.store.subscription(parsed.subscriptionId)) throw subscriptionNotFound(parsed.subscriptionId);
        if (parsed.kind === 'subscription') return;
        if (!this.store.resourceGroup(parsed.subscriptionId, parsed.resourceGroup)) throw resourceGroupNotFound(parsed.resourceGroup);
        if (parsed.kind !== 'resource') return;
        const record = this.store.resource(parsed.subscriptionId, parsed.resourceGroup, parsed.type, parsed.name);
        if (!record) throw resourceNotFound(parsed.type, parsed.resourceGroup, parsed.name);
        if (parsed.child.length > 0 && !(await this.subscriptions.childExists(record, parsed.child))) {
          throw resourceNotFound(`${parsed.type}/${parsed.name}/${parsed.child.slice(0, -1).join('/')}`, parsed.resourceGroup, parsed.child.at(-1)!);
        }
      }
    }
  }
}

function assignmentNotFound(): ArmError {
  return new ArmError(404, 'RoleAssignmentNotFound', 'The role assignment does not exist.');
}
