import { operationName, roleGrants } from './permissions.js';
import { isWithinScope, normalizeScope } from './scopes.js';
import type { Decision, Operation, RoleAssignment, RoleDefinition } from './types.js';

/**
 * The authorization rule itself, free of storage: of a principal's assignments, those at the scope or above it
 * apply (subscription ⊃ resource group ⊃ resource); the operation is allowed when the role of one of them
 * grants it. Effective permissions are the union of the applicable roles; there are no deny assignments.
 * The first granting assignment, nearest the scope, is named in the reason.
 */
export function decideFrom(
  principalId: string,
  operation: Operation,
  scope: string,
  assignments: readonly RoleAssignment[],
  roleOf: (roleDefinitionName: string) => RoleDefinition | undefined,
): Decision {
  const target = normalizeScope(scope);
  const applicable: Decision['applicable'] = [];
  for (const assignment of assignments) {
    if (assignment.principalId.toLowerCase() !== principalId.toLowerCase()) continue;
    if (!isWithinScope(target, assignment.scope)) continue;
    const role = roleOf(assignment.roleDefinitionName);
    if (role) applicable.push({ assignment, role });
  }
  // Nearest first: a reason that names the registry-level AcrPull reads better than a subscription-wide Owner.
  applicable.sort((a, b) => b.assignment.scope.length - a.assignment.scope.length);

  const what = operationName(operation);
  const exclusions: string[] = [];
  for (const entry of applicable) {
    const match = roleGrants(entry.role, operation);
    if (match.granted) {
      return {
        allowed: true,
        grantedBy: entry,
        applicable,
        reason: `principal ${principalId} may perform ${what} at ${target}: role ${entry.role.roleName} assigned at ${entry.assignment.scope} `
          + `(assignment ${entry.assignment.name}) grants it through '${match.pattern}'`,
      };
    }
    if (match.excludedBy) exclusions.push(`${entry.role.roleName} at ${entry.assignment.scope} excludes it by notActions '${match.excludedBy}'`);
  }

  const applying = applicable.length === 0
    ? 'no assignments apply there'
    : `assignments that apply: ${applicable.map((e) => `${e.role.roleName} at ${e.assignment.scope}`).join(', ')}`;
  const kind = operation.dataAction !== undefined ? 'data action' : 'action';
  return {
    allowed: false,
    applicable,
    reason: `principal ${principalId} has no role assignment granting ${kind} ${what} at ${target}; ${applying}`
      + (exclusions.length ? `; ${exclusions.join('; ')}` : ''),
  };
}
