import type { AssignmentStore } from './assignment-store.js';
import { BUILTIN_ROLES } from './builtin-roles.js';
import { decideFrom } from './decide.js';
import { isWithinScope, normalizeScope, scopeKey } from './scopes.js';
import { RbacError, type Decision, type Operation, type Rbac, type RoleAssignment, type RoleDefinition } from './types.js';
import { GUID } from '../guid.js';


/** Decisions kept before the cache starts over; far above what one server's principals and scopes produce. */
const DECISION_CACHE_LIMIT = 50_000;

/**
 * Azure RBAC over an assignment store and the built-in role definitions. Decisions are cached per
 * (principal, operation, scope); the cache is dropped whenever the store's generation moves, which every
 * assignment change bumps in whatever process makes it, so no decision outlives the assignment it rests on.
 * Role definitions never change.
 */
export class RbacService implements Rbac {
  private readonly roles = new Map(BUILTIN_ROLES.map((r) => [r.name, r]));
  private readonly decisions = new Map<string, Decision>();
  private decisionsGeneration = -1;

  constructor(private readonly store: AssignmentStore) {}

  async decide(principalId: string, operation: Operation, scope: string): Promise<Decision> {
    const key = `${principalId.toLowerCase()}\n${operation.dataAction !== undefined ? 'data:' : ''}${(operation.dataAction ?? operation.action)!.toLowerCase()}\n${scopeKey(scope)}`;
    const generation = this.store.generation();
    if (generation !== this.decisionsGeneration) {
      this.decisions.clear();
      this.decisionsGeneration = generation;
    }
    const cached = this.decisions.get(key);
    if (cached) return cached;
    const decision = decideFrom(principalId, operation, scope, this.store.ofPrincipal(principalId), (name) => this.roles.get(name));
    if (this.decisions.size >= DECISION_CACHE_LIMIT) this.decisions.clear();
    this.decisions.set(key, decision);
    return decision;
  }

  async roleDefinitions(filter: { roleName?: string } = {}): Promise<RoleDefinition[]> {
    const wanted = filter.roleName?.toLowerCase();
    return [...this.roles.values()].filter((r) => wanted === undefined || r.roleName.toLowerCase() === wanted);
  }

  async roleDefinition(name: string): Promise<RoleDefinition | undefined> {
    return this.roles.get(name.toLowerCase());
  }

  async createAssignment(input: {
    name: string; scope: string; roleDefinitionName: string; principalId: string;
    principalType?: RoleAssignment['principalType']; description?: string | null; createdBy?: string | null;
  }): Promise<RoleAssignment> {
    if (!GUID.test(input.name)) {
      throw new RbacError('InvalidRoleAssignment', `The role assignment ID '${input.name}' is not valid. The role assignment ID must be a GUID.`, 400);
    }
    const role = this.roles.get(input.roleDefinitionName.toLowerCase());
    if (!role) {
      throw new RbacError('RoleDefinitionDoesNotExist', `The specified role definition with ID '${input.roleDefinitionName}' does not exist.`, 400);
    }
    const now = new Date().toISOString();
    const assignment: RoleAssignment = {
      name: input.name.toLowerCase(),
      scope: normalizeScope(input.scope),
      roleDefinitionName: role.name,
      principalId: input.principalId.toLowerCase(),
      principalType: input.principalType ?? 'ServicePrincipal',
      description: input.description ?? null,
      createdOn: now,
      updatedOn: now,
      createdBy: input.createdBy ?? null,
    };
    const sameName = this.store.byName(assignment.name);
    if (sameName) {
      if (sameAssignment(sameName, assignment)) return sameName;
      throw new RbacError('RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.', 409);
    }
    const result = this.store.insert(assignment);
    if (!result.created) throw new RbacError('RoleAssignmentExists', 'The role assignment already exists.', 409);
    return assignment;
  }

  async assignment(scope: string, name: string): Promise<RoleAssignment | undefined> {
    const found = this.store.byName(name);
    return found && scopeKey(found.scope) === scopeKey(scope) ? found : undefined;
  }

  async deleteAssignment(scope: string, name: string): Promise<RoleAssignment | undefined> {
    const found = await this.assignment(scope, name);
    if (!found || !this.store.delete(found.name)) return undefined;
    return found;
  }

  async listAssignments(query: { scope: string; mode: 'atScope' | 'atAndBelow'; principalId?: string }): Promise<RoleAssignment[]> {
    const scope = normalizeScope(query.scope);
    const above = this.store.atScopes(ancestorsOf(scope));
    const found = query.mode === 'atScope' ? above : [...above, ...this.store.atOrBelow(scope).filter((a) => scopeKey(a.scope) !== scopeKey(scope))];
    const principal = query.principalId?.toLowerCase();
    return found.filter((a) => principal === undefined || a.principalId === principal);
  }

  async deleteAssignmentsOf(query: { principalId?: string; scopePrefix?: string }): Promise<number> {
    return this.store.deleteWhere({
      ...(query.principalId !== undefined ? { principalId: query.principalId } : {}),
      ...(query.scopePrefix !== undefined ? { scopePrefix: normalizeScope(query.scopePrefix) } : {}),
    });
  }

  close(): void {
    this.store.close();
  }
}

function sameAssignment(a: RoleAssignment, b: RoleAssignment): boolean {
  return a.principalId === b.principalId && a.roleDefinitionName === b.roleDefinitionName && isWithinScope(a.scope, b.scope) && isWithinScope(b.scope, a.scope);
}

/** The scope and each scope above it, up to and including "/". */
function ancestorsOf(scope: string): string[] {
  const segments = normalizeScope(scope).split('/').filter(Boolean);
  const result = ['/'];
  for (let i = 1; i <= segments.length; i++) result.push(`/${segments.slice(0, i).join('/')}`);
  return result;
}
