import type { CredentialOwner } from '../identity/types.js';
import { odataContext, requireDirectoryWriter, type GraphContext, type GraphHandler } from './context.js';
import { sendGraphJson, sendGraphNoContent } from './errors.js';
import { passwordCredentialJson } from './representations.js';
import { objectId, optionalNullableString, optionalObject, optionalString, readJsonObject, requiredString } from './request.js';

const RESOURCE = 'PasswordCredential';

/** `addPassword` and `removePassword`, on applications and service principals alike. */
export function passwordHandlers(kind: CredentialOwner['kind']): { add: GraphHandler; remove: GraphHandler } {
  return {
    async add(ctx: GraphContext): Promise<void> {
      requireDirectoryWriter(ctx);
      const owner = { kind, id: objectId(ctx.params[0]!) };
      const credential = optionalObject(await readJsonObject(ctx.req), 'passwordCredential', RESOURCE) ?? {};
      const displayName = optionalNullableString(credential, 'displayName', RESOURCE);
      const startDateTime = optionalString(credential, 'startDateTime', RESOURCE);
      const endDateTime = optionalString(credential, 'endDateTime', RESOURCE);
      const password = await ctx.directory.addPassword(owner, {
        ...(displayName === undefined ? {} : { displayName }),
        ...(startDateTime === undefined ? {} : { startDateTime }),
        ...(endDateTime === undefined ? {} : { endDateTime }),
      });
      sendGraphJson(ctx.req, ctx.res, 200, { '@odata.context': odataContext(ctx, 'microsoft.graph.passwordCredential'), ...passwordCredentialJson(password) });
    },
    async remove(ctx: GraphContext): Promise<void> {
      requireDirectoryWriter(ctx);
      const owner = { kind, id: objectId(ctx.params[0]!) };
      const keyId = requiredString(await readJsonObject(ctx.req), 'keyId', RESOURCE);
      await ctx.directory.removePassword(owner, objectId(keyId));
      sendGraphNoContent(ctx.req, ctx.res);
    },
  };
}
