import { ArmError } from './errors.js';

/**
 * The `$filter` expressions ARM list calls take, as far as clients send them: clauses joined by `and`,
 * each `field eq 'value'` or a function call `atScope()` / `assignedTo('id')`. Field and function names
 * ignore case; a quote inside a value is doubled, as OData writes it.
 */
export type FilterClause = { field: string; value: string } | { fn: string; arg?: string };

const CLAUSE = /^\s*(?:([A-Za-z][A-Za-z0-9/]*)\s+eq\s+'((?:[^']|'')*)'|([A-Za-z][A-Za-z0-9]*)\(\s*(?:'((?:[^']|'')*)')?\s*\))\s*/;

export function parseFilter(filter: string | null): FilterClause[] {
  if (filter === null || filter.trim() === '') return [];
  const clauses: FilterClause[] = [];
  let rest = filter;
  for (;;) {
    const m = CLAUSE.exec(rest);
    if (!m) throw invalidFilter(filter);
    if (m[1] !== undefined) clauses.push({ field: m[1].toLowerCase(), value: m[2]!.replace(/''/g, "'") });
    else clauses.push({ fn: m[3]!.toLowerCase(), ...(m[4] !== undefined ? { arg: m[4].replace(/''/g, "'") } : {}) });
    rest = rest.slice(m[0].length);
    if (rest === '') return clauses;
    const and = /^and\s+/i.exec(rest);
    if (!and) throw invalidFilter(filter);
    rest = rest.slice(and[0].length);
  }
}

/** Refuses clauses on fields or functions not allowed, and functions called with an argument they do not take, or without one they need. */
export function onlyClauses(clauses: FilterClause[], allowed: { fields?: string[]; fns?: Record<string, 'argument' | 'none'> }, filter: string | null): void {
  for (const c of clauses) {
    const ok = 'field' in c ? allowed.fields?.includes(c.field)
      : allowed.fns !== undefined && Object.hasOwn(allowed.fns, c.fn) && (allowed.fns[c.fn] === 'argument') === (c.arg !== undefined && c.arg !== '');
    if (!ok) throw invalidFilter(filter ?? '');
  }
}

export function fieldValue(clauses: FilterClause[], field: string): string | undefined {
  for (const c of clauses) if ('field' in c && c.field === field) return c.value;
  return undefined;
}

function invalidFilter(filter: string): ArmError {
  return new ArmError(400, 'InvalidFilterInQueryString', `The $filter '${filter}' provided in the request is not valid or not supported.`);
}
