import { MAX_MANIFEST_BYTES } from '../manifest-format.js';
import { parseReference } from '../names.js';
import type { Handler } from './context.js';
import { readBody } from './request.js';
import { API_VERSION_HEADER, sendEmpty } from './respond.js';

/** GET and HEAD /v2/<name>/manifests/<reference>. */
export const getManifest: Handler = async ({ req, res, registry, name, param, services }) => {
  const manifest = await services.manifests.get(registry, name, parseReference(param));
  res.writeHead(200, {
    ...API_VERSION_HEADER,
    'Content-Type': manifest.mediaType,
    'Content-Length': manifest.size,
    'Docker-Content-Digest': manifest.digest,
    ETag: `"${manifest.digest}"`,
  });
  res.end(req.method === 'HEAD' ? undefined : manifest.content);
};

/** PUT /v2/<name>/manifests/<reference>. */
export const putManifest: Handler = async ({ req, res, registry, name, param, services }) => {
  const reference = parseReference(param);
  const body = await readBody(req, MAX_MANIFEST_BYTES);
  const pushed = await services.manifests.put(registry, name, reference, body, req.headers['content-type']);
  sendEmpty(res, 201, {
    Location: `/v2/${name}/manifests/${pushed.digest}`,
    'Docker-Content-Digest': pushed.digest,
    ...(pushed.subject ? { 'OCI-Subject': pushed.subject } : {}),
  });
};

/** DELETE /v2/<name>/manifests/<reference>: a tag removes the tag, a digest the manifest. */
export const deleteManifest: Handler = async ({ res, registry, name, param, services }) => {
  await services.manifests.delete(registry, name, parseReference(param));
  sendEmpty(res, 202);
};
