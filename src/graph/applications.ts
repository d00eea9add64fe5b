import type { ApplicationFilter } from '../identity/types.js';
import { odataContext, requireDirectoryWriter, type GraphContext } from './context.js';
import { badRequest, resourceNotFound, sendGraphJson, sendGraphNoContent } from './errors.js';
import { isCondition, parseFilter, unsupportedFilter } from './odata-filter.js';
import { listJson, pageQuery } from './paging.js';
import { applicationJson } from './representations.js';
import {
  objectId, optionalNullableString, optionalString, optionalStringArray, readJsonObject, requiredString, type JsonObject,
} from './request.js';

const RESOURCE = 'Application';

function applicationFilter(filter: string | null): ApplicationFilter | undefined {
  if (filter === null) return undefined;
  const c = parseFilter(filter);
  if (isCondition(c, 'eq', 'displayName')) return { displayName: c.value };
  if (isCondition(c, 'startswith', 'displayName')) return { displayNamePrefix: c.value };
  if (isCondition(c, 'eq', 'appId')) return { appId: c.value };
  if (isCondition(c, 'eq', 'id')) return { id: c.value };
  if (isCondition(c, 'any', 'identifierUris')) return { identifierUri: c.value };
  throw unsupportedFilter(c, RESOURCE);
}

/** The writable properties this server keeps; certificates are refused rather than dropped silently. */
function applicationProperties(body: JsonObject): { displayName?: string; description?: string | null; identifierUris?: string[]; signInAudience?: string } {
  const keyCredentials = body['keyCredentials'];
  if (Array.isArray(keyCredentials) && keyCredentials.length > 0) {
    throw badRequest('keyCredentials (certificates) are not supported by this directory; use addPassword.');
  }
  const displayName = optionalString(body, 'displayName', RESOURCE);
  const description = optionalNullableString(body, 'description', RESOURCE);
  const identifierUris = optionalStringArray(body, 'identifierUris', RESOURCE);
  const signInAudience = optionalString(body, 'signInAudience', RESOURCE);
  return {
    ...(displayName === undefined ? {} : { displayName }),
    ...(description === undefined ? {} : { description }),
    ...(identifierUris === undefined ? {} : { identifierUris }),
    ...(signInAudience === undefined ? {} : { signInAudience }),
  };
}

export async function listApplications(ctx: GraphContext): Promise<void> {
  const page = await ctx.directory.listApplications(pageQuery(ctx.query, applicationFilter(ctx.query.get('$filter'))));
  sendGraphJson(ctx.req, ctx.res, 200, listJson(page, applicationJson, odataContext(ctx, 'applications'), ctx.url));
}

export async function createApplication(ctx: GraphContext): Promise<void> {
  requireDirectoryWriter(ctx);
  const body = await readJsonObject(ctx.req);
  const app = await ctx.directory.createApplication({ ...applicationProperties(body), displayName: requiredString(body, 'displayName', RESOURCE) });
  sendGraphJson(ctx.req, ctx.res, 201, { '@odata.context': odataContext(ctx, 'applications/$entity'), ...applicationJson(app) },
    { Location: `${ctx.root}/applications/${app.id}` });
}

export async function getApplication(ctx: GraphContext): Promise<void> {
  const id = objectId(ctx.params[0]!);
  const app = await ctx.directory.application(id);
  if (!app) throw resourceNotFound(id);
  sendGraphJson(ctx.req, ctx.res, 200, { '@odata.context': odataContext(ctx, 'applications/$entity'), ...applicationJson(app) });
}

export async function updateApplication(ctx: GraphContext): Promise<void> {
  requireDirectoryWriter(ctx);
  const id = objectId(ctx.params[0]!);
  await ctx.directory.updateApplication(id, applicationProperties(await readJsonObject(ctx.req)));
  sendGraphNoContent(ctx.req, ctx.res);
}

export async function deleteApplication(ctx: GraphContext): Promise<void> {
  requireDirectoryWriter(ctx);
  const id = objectId(ctx.params[0]!);
  if (!(await ctx.directory.deleteApplication(id))) throw resourceNotFound(id);
  sendGraphNoContent(ctx.req, ctx.res);
}
