import type { RoleAssignment } from './types.js';

/**
 * Where role assignments persist. Scopes arrive normalised (see scopes.ts); the store compares them
 * case-insensitively. SQLite implements it for one process.
 */
export interface AssignmentStore {
  /** Inserts unless the same principal, role and scope exist already; then returns that one instead. */
  insert(assignment: RoleAssignment): { created: true } | { created: false; existing: RoleAssignment };
  byName(name: string): RoleAssignment | undefined;
  delete(name: string): boolean;
  /** Every assignment of a principal, wherever it is. */
  ofPrincipal(principalId: string): RoleAssignment[];
  /** Assignments at the scope or under it. */
  atOrBelow(scope: string): RoleAssignment[];
  /** Assignments at exactly these scopes (a scope and its ancestors). */
  atScopes(scopes: string[]): RoleAssignment[];
  deleteWhere(query: { principalId?: string; scopePrefix?: string }): number;
  /** A number every change bumps, whichever process makes it: what cached decisions are checked against. */
  generation(): number;
  close(): void;
}
