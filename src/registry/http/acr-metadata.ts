import type { ListQuery } from '../metadata-api/service.js';
import { checkDigest } from '../names.js';
import type { Handler } from './context.js';
import { listPage, page, readJsonObject } from './request.js';
import { sendEmpty, sendJson } from './respond.js';

/** ACR's metadata API (`/acr/v1/...`), over AcrMetadataService. */

const PATCH_LIMIT = 64 * 1024;

function listQuery(query: URLSearchParams): ListQuery {
  const orderby = query.get('orderby');
  const digest = query.get('digest');
  return {
    ...page(query),
    ...(orderby === 'timedesc' || orderby === 'timeasc' ? { orderby } : {}),
    ...(digest ? { digest: checkDigest(digest) } : {}),
  };
}

/** `Link: </acr/v1/...?last=X&n=N&orderby=>; rel="next"`, as ACR pages its listings. */
function nextLink(path: string, next: string | undefined, query: URLSearchParams, n = query.get('n') ?? '100'): Record<string, string> {
  if (next === undefined) return {};
  const params = new URLSearchParams({ last: next, n, orderby: query.get('orderby') ?? '' });
  return { Link: `<${path}?${params}>; rel="next"` };
}

/** GET /acr/v1/_catalog */
export const acrCatalog: Handler = async ({ res, registry, query, services }) => {
  const p = page(query);
  const { items, next } = await listPage(p, (q) => services.manifests.repositories(registry, q));
  sendJson(res, 200, { repositories: items }, nextLink('/acr/v1/_catalog', next, query, String(p.n)));
};

/** GET, PATCH and DELETE /acr/v1/<name> */
export const repository: Handler = async ({ req, res, registry, name, services }) => {
  if (req.method === 'DELETE') sendJson(res, 202, await services.metadataApi.deleteRepository(registry, name));
  else if (req.method === 'PATCH') sendJson(res, 200, await services.metadataApi.updateRepository(registry, name, await readJsonObject(req, PATCH_LIMIT)));
  else sendJson(res, 200, await services.metadataApi.repository(registry, name));
};

/** GET /acr/v1/<name>/_tags?n=&last=&orderby=&digest= */
export const tagDetails: Handler = async ({ res, registry, name, query, services }) => {
  const { body, next } = await services.metadataApi.tags(registry, name, listQuery(query));
  sendJson(res, 200, body, nextLink(`/acr/v1/${name}/_tags`, next, query));
};

/** GET, PATCH and DELETE /acr/v1/<name>/_tags/<tag> */
export const tag: Handler = async ({ req, res, registry, name, param, services }) => {
  if (req.method === 'DELETE') {
    await services.metadataApi.deleteTag(registry, name, param);
    sendEmpty(res, 202);
  } else if (req.method === 'PATCH') {
    sendJson(res, 200, await services.metadataApi.updateTag(registry, name, param, await readJsonObject(req, PATCH_LIMIT)));
  } else {
    sendJson(res, 200, await services.metadataApi.tag(registry, name, param));
  }
};

/** GET /acr/v1/<name>/_manifests?n=&last=&orderby= */
export const manifestDetails: Handler = async ({ res, registry, name, query, services }) => {
  const { body, next } = await services.metadataApi.manifests(registry, name, listQuery(query));
  sendJson(res, 200, body, nextLink(`/acr/v1/${name}/_manifests`, next, query));
};

/** GET and PATCH /acr/v1/<name>/_manifests/<digest> */
export const manifest: Handler = async ({ req, res, registry, name, param, services }) => {
  if (req.method === 'PATCH') sendJson(res, 200, await services.metadataApi.updateManifest(registry, name, param, await readJsonObject(req, PATCH_LIMIT)));
  else sendJson(res, 200, await services.metadataApi.manifest(registry, name, param));
};
