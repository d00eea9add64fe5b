import { MEDIA_TYPES } from '../manifest-format.js';
import { checkDigest } from '../names.js';
import type { Handler } from './context.js';
import { listPage, page } from './request.js';
import { sendJson } from './respond.js';

/** The `Link` header to the page after this one, when there is one. */
function nextLink(path: string, n: number, next: string | undefined): Record<string, string> {
  return next === undefined ? {} : { Link: `<${path}?${new URLSearchParams({ n: String(n), last: next })}>; rel="next"` };
}

/** GET /v2/<name>/tags/list?n=&last= */
export const listTags: Handler = async ({ res, registry, name, query, services }) => {
  const p = page(query);
  const { items, next } = await listPage(p, (q) => services.manifests.tags(registry, name, q));
  sendJson(res, 200, { name, tags: items }, nextLink(`/v2/${name}/tags/list`, p.n, next));
};

/** GET /v2/_catalog?n=&last= */
export const catalog: Handler = async ({ res, registry, query, services }) => {
  const p = page(query);
  const { items, next } = await listPage(p, (q) => services.manifests.repositories(registry, q));
  sendJson(res, 200, { repositories: items }, nextLink('/v2/_catalog', p.n, next));
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
