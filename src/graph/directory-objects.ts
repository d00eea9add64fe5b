import type { DirectoryObject } from '../identity/types.js';
import { odataContext, type GraphContext } from './context.js';
import { badRequest, GraphError, resourceNotFound, sendGraphJson } from './errors.js';
import { applicationJson, ODATA_TYPE, servicePrincipalJson } from './representations.js';
import { objectId, optionalStringArray, readJsonObject } from './request.js';

const MAX_IDS = 1000;

function objectJson(o: DirectoryObject): Record<string, unknown> {
  return o.type === 'application'
    ? { '@odata.type': ODATA_TYPE.application, ...applicationJson(o.object) }
    : { '@odata.type': ODATA_TYPE.servicePrincipal, ...servicePrincipalJson(o.object) };
}

/** `POST /directoryObjects/getByIds`: how `az role assignment create --assignee <guid>` learns a principal's type. */
export async function getByIds(ctx: GraphContext): Promise<void> {
  const body = await readJsonObject(ctx.req);
  const ids = optionalStringArray(body, 'ids', 'DirectoryObject');
  if (!ids || ids.length === 0 || ids.length > MAX_IDS) throw badRequest(`ids must hold 1 to ${MAX_IDS} object ids.`);
  const types = optionalStringArray(body, 'types', 'DirectoryObject')?.map((t) => t.toLowerCase());
  const found = await ctx.directory.objectsByIds(ids.map(objectId));
  const value = found.filter((o) => !types || types.includes(o.type.toLowerCase())).map(objectJson);
  sendGraphJson(ctx.req, ctx.res, 200, { '@odata.context': odataContext(ctx, 'directoryObjects'), value });
}

/** The directory has no users: `az` looks an assignee with an `@` up here first and moves on when none is found. */
export async function listUsers(ctx: GraphContext): Promise<void> {
  sendGraphJson(ctx.req, ctx.res, 200, { '@odata.context': odataContext(ctx, 'users'), value: [] });
}

export async function getUser(ctx: GraphContext): Promise<void> {
  throw resourceNotFound(ctx.params[0]!);
}

/** `/me` names the signed-in user; an application's token has none, and Graph says so. */
export async function me(): Promise<void> {
  throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
}
