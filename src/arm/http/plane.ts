import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { RbacError } from '../../rbac/types.js';
import { RegistryError } from '../../registry/errors.js';
import type { HttpPlane } from '../../server/plane.js';
import { isClientGone, readJsonObjectBody, RequestBodyNotJsonObject, RequestBodyStalled, RequestBodyTooLarge } from '../../server/request-body.js';
import { ArmError, invalidRequestContent } from '../errors.js';
import type { ResourceManager } from '../resource-manager.js';
import { authenticate } from './authenticate.js';
import { cloudMetadata } from '../cloud-metadata.js';
import { sendArmError, sendArmJson } from './respond.js';
import type { ArmCall, ArmRoute } from './route.js';
import { authorizationRoutes } from './routes-authorization.js';
import { clusterRoutes } from './routes-clusters.js';
import { registryRoutes } from './routes-registries.js';
import { subscriptionRoutes } from './routes-subscriptions.js';
import { GUID } from '../../guid.js';

/** ARM request bodies are small JSON documents. */
const BODY_LIMIT = 1024 * 1024;

/**
 * The resource manager on the main port: `/metadata/endpoints` for anyone, everything else for an
 * authenticated caller, each call authorized by RBAC in its handler. Errors are ARM's envelope, always.
 */
export class ArmPlane implements HttpPlane {
  readonly name = 'resource-manager';
  private readonly routes: ArmRoute[];
  /** Lower-case provider namespace → the resource types its routes serve, to name what a path asked for in vain. */
  private readonly servedTypes = new Map<string, Set<string>>();

  constructor(private readonly arm: ResourceManager, private readonly log: Logger) {
    this.routes = [...subscriptionRoutes(arm), ...registryRoutes(arm), ...clusterRoutes(arm), ...authorizationRoutes(arm)];
    for (const route of this.routes) {
      // The routes' own patterns name them (`providers/Microsoft.ContainerRegistry/registries`, once unescaped).
      for (const [, namespace, type] of route.path.source.replace(/\\(.)/g, '$1').matchAll(/providers\/([A-Za-z.]+)\/([A-Za-z]+)/g)) {
        const types = this.servedTypes.get(namespace!.toLowerCase()) ?? new Set<string>();
        this.servedTypes.set(namespace!.toLowerCase(), types.add(type!.toLowerCase()));
      }
    }
  }

  claims(path: string): boolean {
    return /^\/*(metadata\/endpoints|tenants|subscriptions|providers)(\/|$)/i.test(path);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // Not `new URL(...)`: it would read msrestazure's `//metadata/endpoints` as a host named "metadata".
      const target = req.url ?? '/';
      const q = target.indexOf('?');
      const path = normalizePath(q === -1 ? target : target.slice(0, q));
      const url = { searchParams: new URLSearchParams(q === -1 ? '' : target.slice(q + 1)) };
      if (/^\/metadata\/endpoints$/i.test(path) && (req.method === 'GET' || req.method === 'HEAD')) {
        sendArmJson(req, res, 200, cloudMetadata(url.searchParams.get('api-version'), this.arm.cloud));
        return;
      }
      const caller = await authenticate(req, this.arm.identity, this.arm.cloud.publicUrl);
      // ARM refuses calls without an api-version. Every resource here serves one shape whatever the version, so any
      // version of ARM's form (a date, perhaps with -preview) is taken: clients of many ages send many.
      const apiVersion = url.searchParams.get('api-version');
      if (!apiVersion) {
        throw new ArmError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
      }
      if (!/^\d{4}-\d{2}-\d{2}(-[a-z]+)?$/i.test(apiVersion)) {
        throw new ArmError(400, 'InvalidApiVersionParameter', `The api-version '${apiVersion}' is invalid: use a version such as 2023-07-01 or 2023-11-01-preview.`);
      }
      const subscription = /^\/subscriptions\/([^/]+)/i.exec(path)?.[1];
      if (subscription !== undefined && !GUID.test(subscription)) {
        throw new ArmError(400, 'InvalidSubscriptionId', `The provided subscription identifier '${subscription}' is malformed or invalid.`);
      }
      const { route, params } = this.match(path);
      const handler = route.methods[req.method as keyof ArmRoute['methods']];
      if (!handler) {
        throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${req.method}'.`);
      }
      // A body can be read once: a handler that asks again gets the same object.
      let body: Promise<Record<string, unknown>> | undefined;
      const call: ArmCall = {
        method: req.method!, params, query: url.searchParams, caller,
        body: () => (body ??= readJsonObject(req)),
        can: async (action, scope) => (await this.arm.rbac.decide(caller.objectId, { action }, scope)).allowed,
        authorize: async (action, scope) => {
          const decision = await this.arm.rbac.decide(caller.objectId, { action }, scope);
          if (decision.allowed) return;
          this.log.info({ principal: caller.objectId, action, scope, reason: decision.reason }, 'resource manager call denied');
          throw new ArmError(403, 'AuthorizationFailed',
            `The client '${caller.appId}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
            [{ code: 'AuthorizationDecision', message: decision.reason }]);
        },
      };
      const result = await handler(call);
      sendArmJson(req, res, result.status, result.body);
    } catch (err) {
      if (isClientGone(err)) throw err;
      sendArmError(req, res, this.toArmError(err, req));
    }
  }

  private match(path: string): { route: ArmRoute; params: string[] } {
    for (const route of this.routes) {
      const m = route.path.exec(path);
      if (m) return { route, params: m.slice(1).map((p) => p ?? '') };
    }
    // ARM tells an unknown provider or resource type from a path that names nothing.
    const provider = /\/providers\/([^/]+)(?:\/([^/]+))?/i.exec(path);
    if (provider) {
      const [, namespace, type] = provider as unknown as [string, string, string | undefined];
      const types = this.servedTypes.get(namespace.toLowerCase());
      if (!types) throw new ArmError(400, 'InvalidResourceNamespace', `The resource namespace '${namespace}' is invalid: this resource manager serves ${[...this.servedTypes.keys()].join(', ')}.`);
      if (type !== undefined && !types.has(type.toLowerCase())) {
        throw new ArmError(400, 'InvalidResourceType', `The resource type '${type}' could not be found in the namespace '${namespace}'.`);
      }
    }
    throw new ArmError(404, 'NotFound', `The resource path '${path}' is not served by this resource manager.`);
  }

  private toArmError(err: unknown, req: IncomingMessage): ArmError {
    if (err instanceof ArmError) return err;
    if (err instanceof RbacError) return new ArmError(err.status, err.code, err.message);
    if (err instanceof RegistryError) {
      return new ArmError(err.status >= 500 ? 503 : err.status, err.status === 404 ? 'ResourceNotFound' : 'InvalidParameter', err.message);
    }
    this.log.error({ err, method: req.method, url: req.url }, 'resource manager call failed');
    return new ArmError(500, 'InternalServerError', 'The server encountered an internal error; see its log.');
  }
}

/** `//subscriptions//x/` → `/subscriptions/x`, each segment percent-decoded (names may carry encoded characters). */
function normalizePath(pathname: string): string {
  const segments = pathname.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ArmError(400, 'InvalidRequestUri', `The request path segment '${s}' is not correctly encoded.`);
    }
  });
  return `/${segments.join('/')}`;
}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  try {
    return await readJsonObjectBody(req, BODY_LIMIT);
  } catch (err) {
    if (err instanceof RequestBodyTooLarge) throw new ArmError(413, 'RequestEntityTooLarge', `The request body exceeds ${BODY_LIMIT} bytes.`);
    if (err instanceof RequestBodyStalled) throw new ArmError(408, 'RequestTimeout', `The request timed out: ${err.message}.`);
    if (err instanceof RequestBodyNotJsonObject) throw invalidRequestContent(err.detail);
    throw err;
  }
}
