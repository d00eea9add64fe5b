import type { ServicePrincipalFilter } from '../identity/types.js';
import { odataContext, requireDirectoryWriter, type GraphContext } from './context.js';
import { resourceNotFound, sendGraphJson, sendGraphNoContent } from './errors.js';
import { isCondition, parseFilter, unsupportedFilter } from './odata-filter.js';
import { listJson, pageQuery } from './paging.js';
import { servicePrincipalJson } from './representations.js';
import { objectId, optionalBoolean, readJsonObject, requiredString } from './request.js';

const RESOURCE = 'ServicePrincipal';

function servicePrincipalFilter(filter: string | null): ServicePrincipalFilter | undefined {
  if (filter === null) return undefined;
  const c = parseFilter(filter);
  if (isCondition(c, 'any', 'servicePrincipalNames')) return { servicePrincipalName: c.value };
  if (isCondition(c, 'eq', 'displayName')) return { displayName: c.value };
  if (isCondition(c, 'startswith', 'displayName')) return { displayNamePrefix: c.value };
  if (isCondition(c, 'eq', 'appId')) return { appId: c.value };
  if (isCondition(c, 'eq', 'id')) return { id: c.value };
  throw unsupportedFilter(c, RESOURCE);
}

export async function listServicePrincipals(ctx: GraphContext): Promise<void> {
  const page = await ctx.directory.listServicePrincipals(pageQuery(ctx.query, servicePrincipalFilter(ctx.query.get('$filter'))));
  sendGraphJson(ctx.req, ctx.res, 200, listJson(page, servicePrincipalJson, odataContext(ctx, 'servicePrincipals'), ctx.url));
}

export async function createServicePrincipal(ctx: GraphContext): Promise<void> {
  requireDirectoryWriter(ctx);
  const body = await readJsonObject(ctx.req);
  const accountEnabled = optionalBoolean(body, 'accountEnabled', RESOURCE);
  const sp = await ctx.directory.createServicePrincipal({
    appId: requiredString(body, 'appId', RESOURCE),
    ...(accountEnabled === undefined ? {} : { accountEnabled }),
  });
  sendGraphJson(ctx.req, ctx.res, 201, { '@odata.context': odataContext(ctx, 'servicePrincipals/$entity'), ...servicePrincipalJson(sp) },
    { Location: `${ctx.root}/servicePrincipals/${sp.id}` });
}

export async function getServicePrincipal(ctx: GraphContext): Promise<void> {
  const id = objectId(ctx.params[0]!);
  const sp = await ctx.directory.servicePrincipal(id);
  if (!sp) throw resourceNotFound(id);
  sendGraphJson(ctx.req, ctx.res, 200, { '@odata.context': odataContext(ctx, 'servicePrincipals/$entity'), ...servicePrincipalJson(sp) });
}

export async function deleteServicePrincipal(ctx: GraphContext): Promise<void> {
  requireDirectoryWriter(ctx);
  const id = objectId(ctx.params[0]!);
  if (!(await ctx.directory.deleteServicePrincipal(id))) throw resourceNotFound(id);
  sendGraphNoContent(ctx.req, ctx.res);
}
