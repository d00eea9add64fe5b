/**
 * Azure RBAC's contract: role definitions (actions and dataActions), role assignments at scopes, and the one
 * decision point every plane asks: may principal P do A at scope S, and why (or why not).
 * Scopes are ARM ids: "/", "/subscriptions/{s}", "/subscriptions/{s}/resourceGroups/{rg}", a resource id.
 * An assignment applies to its scope and everything below it; ids compare case-insensitively.
 */

export interface Permission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export interface RoleDefinition {
  /** The GUID (ARM "name"). */
  name: string;
  roleName: string;
  description: string;
  type: 'BuiltInRole' | 'CustomRole';
  permissions: Permission[];
  assignableScopes: string[];
  createdOn: string;
  updatedOn: string;
}

export interface RoleAssignment {
  /** The GUID (ARM "name"). */
  name: string;
  scope: string;
  /** The role definition's GUID. */
  roleDefinitionName: string;
  principalId: string;
  principalType: 'ServicePrincipal' | 'User' | 'Group';
  description: string | null;
  createdOn: string;
  updatedOn: string;
  createdBy: string | null;
}

/** What is asked: an ARM action (e.g. Microsoft.Authorization/roleAssignments/write) or a data action. */
export type Operation = { action: string; dataAction?: undefined } | { dataAction: string; action?: undefined };

export interface Decision {
  allowed: boolean;
  /** The assignment and role that allowed it. */
  grantedBy?: { assignment: RoleAssignment; role: RoleDefinition };
  /** Every assignment of the principal that applies at the scope, whether or not it grants the operation. */
  applicable: Array<{ assignment: RoleAssignment; role: RoleDefinition }>;
  /** One sentence for logs and error messages: which assignment allowed it, or what was missing. */
  reason: string;
}

export class RbacError extends Error {
  constructor(
    readonly code: 'RoleAssignmentExists' | 'RoleAssignmentUpdateNotPermitted' | 'RoleAssignmentNotFound' | 'RoleDefinitionDoesNotExist' | 'PrincipalNotFound' | 'InvalidScope' | 'InvalidRoleAssignment',
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface Rbac {
  /** The one authorization function. */
  decide(principalId: string, operation: Operation, scope: string): Promise<Decision>;

  roleDefinitions(filter?: { roleName?: string }): Promise<RoleDefinition[]>;
  roleDefinition(name: string): Promise<RoleDefinition | undefined>;

  /** Creates an assignment; the same principal, role and scope again is RbacError RoleAssignmentExists (409). */
  createAssignment(input: { name: string; scope: string; roleDefinitionName: string; principalId: string; principalType?: RoleAssignment['principalType']; description?: string | null; createdBy?: string | null }): Promise<RoleAssignment>;
  assignment(scope: string, name: string): Promise<RoleAssignment | undefined>;
  deleteAssignment(scope: string, name: string): Promise<RoleAssignment | undefined>;
  /**
   * Lists assignments: `atScope` those at the scope and above it (what applies there), `below` also those under it,
   * optionally only one principal's.
   */
  listAssignments(query: { scope: string; mode: 'atScope' | 'atAndBelow'; principalId?: string }): Promise<RoleAssignment[]>;
  /** Removes every assignment of a principal (when it is deleted) or at or below a scope (when a resource is). */
  deleteAssignmentsOf(query: { principalId?: string; scopePrefix?: string }): Promise<number>;
}
