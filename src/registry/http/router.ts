import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isClientGone } from '../../server/request-body.js';
import { RegistryError } from '../errors.js';
import type { RegistryRecord } from '../metadata.js';
import { checkRepositoryName } from '../names.js';
import type { RouteTarget } from '../auth/required-access.js';
import { acrCatalog, manifest, manifestDetails, repository, tag, tagDetails } from './acr-metadata.js';
import { authorize } from './authorize.js';
import { deleteBlob, getBlob } from './blobs.js';
import type { Handler, RegistryServices } from './context.js';
import { base, catalog, listTags, referrers } from './listings.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { exchange, token } from './oauth2.js';
import { sendRegistryError } from './respond.js';
import { appendUpload, cancelUpload, finishUpload, startUpload, uploadStatus } from './uploads.js';

interface Route {
  /** Captures the repository name, then the last segment when the route has one. */
  pattern: RegExp;
  /** What the route serves, which decides the access it needs; the token endpoints are open to all. */
  target: RouteTarget | 'token-endpoint';
  methods: Partial<Record<string, Handler>>;
}

/**
 * The OCI Distribution API (end-1 … end-13), ACR's token endpoints and its metadata API.
 * Order matters: upload routes precede the blob route, and metadata sub-resources the repository route.
 */
const ROUTES: Route[] = [
  { pattern: /^\/v2\/$/, target: 'base', methods: { GET: base, HEAD: base } },
  { pattern: /^\/v2\/_catalog$/, target: 'catalog', methods: { GET: catalog } },
  { pattern: /^\/v2\/(.+)\/tags\/list$/, target: 'tags', methods: { GET: listTags } },
  { pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/, target: 'manifest', methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest } },
  { pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/, target: 'upload', methods: { POST: startUpload } },
  { pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, target: 'upload', methods: { GET: uploadStatus, PATCH: appendUpload, PUT: finishUpload, DELETE: cancelUpload } },
  { pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/, target: 'blob', methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
  { pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, target: 'referrers', methods: { GET: referrers } },
  { pattern: /^\/oauth2\/exchange$/, target: 'token-endpoint', methods: { POST: exchange } },
  { pattern: /^\/oauth2\/token$/, target: 'token-endpoint', methods: { GET: token, POST: token } },
  { pattern: /^\/acr\/v1\/_catalog$/, target: 'catalog', methods: { GET: acrCatalog } },
  { pattern: /^\/acr\/v1\/(.+)\/_tags$/, target: 'metadata', methods: { GET: tagDetails } },
  { pattern: /^\/acr\/v1\/(.+)\/_tags\/([^/]+)$/, target: 'metadata', methods: { GET: tag, PATCH: tag, DELETE: tag } },
  { pattern: /^\/acr\/v1\/(.+)\/_manifests$/, target: 'metadata', methods: { GET: manifestDetails } },
  { pattern: /^\/acr\/v1\/(.+)\/_manifests\/([^/]+)$/, target: 'metadata', methods: { GET: manifest, PATCH: manifest } },
  { pattern: /^\/acr\/v1\/(.+)$/, target: 'metadata', methods: { GET: repository, PATCH: repository, DELETE: repository } },
];

export class RegistryRouter {
  constructor(private readonly services: RegistryServices, private readonly log: Logger) {}

  /** Serves one request for one registry; every failure becomes OCI error JSON. */
  async handle(req: IncomingMessage, res: ServerResponse, registry: RegistryRecord): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = ROUTES.find((r) => r.pattern.test(path));
    const allowed = Object.keys(route?.methods ?? {}).join(', ');
    try {
      if (!route) throw new RegistryError('NAME_UNKNOWN', `no registry API at ${path}`, undefined, 404);
      const handler = route.methods[req.method ?? ''];
      if (!handler) throw new RegistryError('UNSUPPORTED', `${req.method} is not supported on ${path}; use ${allowed}`);
      const m = route.pattern.exec(path)!;
      const request = {
        req, res, registry,
        name: m[1] === undefined ? '' : checkRepositoryName(decode(m[1])),
        param: m[2] === undefined ? '' : decode(m[2]),
        query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
        services: this.services,
      };
      if (route.target !== 'token-endpoint' && !(await authorize(request, route.target))) return;
      await handler(request);
    } catch (err) {
      if (err instanceof RegistryError) {
        sendRegistryError(req, res, err, err.status === 405 ? { Allow: allowed } : {});
        return;
      }
      if (isClientGone(err)) return;
      this.log.error({ err, method: req.method, url }, 'registry request failed');
      sendRegistryError(req, res, new RegistryError('UNAVAILABLE', 'internal error; see the server log', undefined, 500));
    }
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RegistryError('NAME_INVALID', `invalid percent-encoding in ${JSON.stringify(segment)}`);
  }
}
