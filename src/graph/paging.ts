import type { ListPage, ListQuery } from '../identity/types.js';
import { badRequest } from './errors.js';

const DEFAULT_PAGE = 100;

const decodedKey = (pair: string): string => {
  const key = pair.split('=', 1)[0]!;
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
};
const MAX_PAGE = 999;

/** `$top` and `$skiptoken`, with Graph's bounds. */
export function pageQuery<F>(query: URLSearchParams, filter: F | undefined): ListQuery<F> {
  const top = query.get('$top');
  const skipToken = query.get('$skiptoken') ?? undefined;
  let size = DEFAULT_PAGE;
  if (top !== null) {
    size = Number(top);
    if (!/^\d+$/.test(top) || size < 1 || size > MAX_PAGE) throw badRequest(`Invalid page size specified: '${top}'. Must be between 1 and ${MAX_PAGE} inclusive.`);
  }
  return { top: size, ...(filter === undefined ? {} : { filter }), ...(skipToken === undefined ? {} : { skipToken }) };
}

/**
 * A list response; `@odata.nextLink` is absolute, as clients follow it as given. It repeats the request's own
 * query (its `$filter` encoded exactly as the client sent it) with the next `$skiptoken`.
 */
export function listJson<T>(page: ListPage<T>, toJson: (item: T) => unknown, context: string, requestUrl: string): Record<string, unknown> {
  const body: Record<string, unknown> = { '@odata.context': context, value: page.items.map(toJson) };
  if (page.skipToken !== undefined) {
    const [path, rawQuery = ''] = requestUrl.split('?', 2) as [string, string?];
    const kept = rawQuery.split('&').filter((pair) => pair !== '' && decodedKey(pair).toLowerCase() !== '$skiptoken');
    body['@odata.nextLink'] = `${path}?${[...kept, `$skiptoken=${encodeURIComponent(page.skipToken)}`].join('&')}`;
  }
  return body;
}
