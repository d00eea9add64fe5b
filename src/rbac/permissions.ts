import type { Operation, RoleDefinition } from './types.js';

/**
 * How a role's permission patterns match an operation, as Azure RBAC matches them: `*` stands for any run of
 * characters (so `*` is everything, `*\/read` every read, `Microsoft.Authorization/*` a whole provider),
 * comparison ignores case, actions are matched against actions/notActions and data actions against
 * dataActions/notDataActions only: an `*` in actions never grants a data action.
 */

const compiled = new Map<string, RegExp>();

export function matchesPattern(pattern: string, operation: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const body = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    re = new RegExp(`^${body}$`, 'i');
    compiled.set(pattern, re);
  }
  return re.test(operation);
}

export type RoleMatch =
  | { granted: true; pattern: string }
  | { granted: false; excludedBy?: string };

/**
 * Whether a role grants an operation: some permission block includes it and does not exclude it.
 * When a block includes it but excludes it too, the exclusion is reported, for the decision's reason.
 */
export function roleGrants(role: RoleDefinition, operation: Operation): RoleMatch {
  const isData = operation.dataAction !== undefined;
  const name = (operation.dataAction ?? operation.action)!;
  let excludedBy: string | undefined;
  for (const p of role.permissions) {
    const include = (isData ? p.dataActions : p.actions).find((pattern) => matchesPattern(pattern, name));
    if (include === undefined) continue;
    const exclude = (isData ? p.notDataActions : p.notActions).find((pattern) => matchesPattern(pattern, name));
    if (exclude === undefined) return { granted: true, pattern: include };
    excludedBy ??= exclude;
  }
  return excludedBy === undefined ? { granted: false } : { granted: false, excludedBy };
}

export function operationName(operation: Operation): string {
  return (operation.dataAction ?? operation.action)!;
}
