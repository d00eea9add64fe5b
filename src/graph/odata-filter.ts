import { GraphError } from './errors.js';

/**
 * The `$filter` expressions the Azure CLI sends, and no more: `prop eq 'v'`, `startswith(prop,'v')` and
 * `coll/any(x:x eq 'v')`. A quote inside a literal is written twice, as OData requires.
 */
export type FilterCondition =
  | { kind: 'eq'; property: string; value: string }
  | { kind: 'startswith'; property: string; value: string }
  | { kind: 'any'; property: string; value: string };

const LITERAL = "'((?:[^']|'')*)'";
const EQ = new RegExp(`^\\s*(\\w+)\\s+eq\\s+${LITERAL}\\s*$`, 'i');
const STARTS_WITH = new RegExp(`^\\s*startswith\\(\\s*(\\w+)\\s*,\\s*${LITERAL}\\s*\\)\\s*$`, 'i');
const ANY = new RegExp(`^\\s*(\\w+)/any\\(\\s*(\\w+)\\s*:\\s*(\\w+)\\s+eq\\s+${LITERAL}\\s*\\)\\s*$`, 'i');

const unquote = (literal: string): string => literal.replace(/''/g, "'");

export function parseFilter(filter: string): FilterCondition {
  let m = EQ.exec(filter);
  if (m) return { kind: 'eq', property: m[1]!, value: unquote(m[2]!) };
  m = STARTS_WITH.exec(filter);
  if (m) return { kind: 'startswith', property: m[1]!, value: unquote(m[2]!) };
  m = ANY.exec(filter);
  if (m && m[2]!.toLowerCase() === m[3]!.toLowerCase()) return { kind: 'any', property: m[1]!, value: unquote(m[4]!) };
  throw new GraphError(400, 'BadRequest', `Invalid filter clause: ${filter}`);
}

export function unsupportedFilter(condition: FilterCondition, resource: string): GraphError {
  return new GraphError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property '${condition.property}' of resource '${resource}'.`);
}

/** Whether a condition is `kind` on `property` (property names compare case-insensitively). */
export function isCondition(condition: FilterCondition, kind: FilterCondition['kind'], property: string): boolean {
  return condition.kind === kind && condition.property.toLowerCase() === property.toLowerCase();
}
