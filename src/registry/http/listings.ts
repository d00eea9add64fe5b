import { MEDIA_TYPES } from '../manifest-format.js';
import type { Page } from '../metadata.js';
import { checkDigest } from '../names.js';
import type { Handler } from './context.js';
import { page } from './request.js';
import { sendJson } from './respond.js';

/** Lists one item more than asked, to know whether a `Link` to the next page is due. */
function paged(items: string[], p: Page, path: string): { items: string[]; headers: Record<string, string> } {
  if (p.n === undefined || items.length <= p.n) return { items, headers: {} };
  const shown = items.slice(0, p.n);
  const next = new URLSearchParams({ n: String(p.n), last: shown[shown.length - 1]! });
  return { items: shown, headers: { Link: `<${path}?${next}>; rel="next"` } };
}

function lookahead(p: Page): Page {
  return p.n === undefined ? p : { ...p, n: p.n + 1 };
}

/** GET /v2/<name>/tags/list?n=&last= */
export const listTags: Handler = async ({ res, registry, name, query, services }) => {
  const p = page(query);
  const tags = p.n === 0 ? [] : await services.manifests.tags(registry, name, lookahead(p));
  const { items, headers } = paged(tags, p, `/v2/${name}/tags/list`);
  sendJson(res, 200, { name, tags: items }, headers);
};

/** GET /v2/_catalog?n=&last= */
export const catalog: Handler = async ({ res, registry, query, services }) => {
  const p = page(query);
  const repositories = p.n === 0 ? [] : await services.manifests.repositories(registry, lookahead(p));
  const { items, headers } = paged(repositories, p, '/v2/_catalog');
  sendJson(res, 200, { repositories: items }, headers);
};

/** GET /v2/<name>/referrers/<digest>?artifactType= */
export const referrers: Handler = async ({ res, registry, name, param, query, services }) => {
  const artifactType = query.get('artifactType');
  const { index, filtered } = await services.manifests.referrers(registry, name, checkDigest(param), artifactType ?? undefined);
  sendJson(res, 200, index, { 'Content-Type': MEDIA_TYPES.ociIndex, ...(filtered ? { 'OCI-Filters-Applied': 'artifactType' } : {}) });
};

/** GET /v2/: the API version check. */
export const base: Handler = async ({ res }) => {
  sendJson(res, 200, {});
};
