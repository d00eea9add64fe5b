import type { ArmRegistry } from '../registries.js';
import { REGISTRY_TYPE, resourceId, subscriptionResourceId } from '../resource-ids.js';
import type { ResourceManager } from '../resource-manager.js';
import { created, deleted, ok, propertiesOf, type ArmCall, type ArmRoute } from './route.js';
import { listView, registryView, scopeMapView, tokenView } from './views.js';

const SUB = '/subscriptions/([^/]+)';
const PROVIDER = 'providers/Microsoft\\.ContainerRegistry';
const REGISTRY = `${SUB}/resourcegroups/([^/]+)/${PROVIDER}/registries/([^/]+)`;
const A = REGISTRY_TYPE;

/** `Microsoft.ContainerRegistry`: registries, their admin credentials, scope maps and tokens. */
export function registryRoutes(arm: ResourceManager): ArmRoute[] {
  const { registries } = arm;

  const registryScope = (call: ArmCall): string => {
    const [s, rg, name] = call.params as [string, string, string];
    return resourceId(s, rg, A, name);
  };
  /** Authorizes the action on the registry the path names, then loads it (404 if it is not there). */
  const authorized = async (call: ArmCall, action: string): Promise<ArmRegistry> => {
    await call.authorize(action, registryScope(call));
    const [s, rg, name] = call.params as [string, string, string];
    return registries.get(s, rg, name);
  };
  const listReadable = async (call: ArmCall, found: ArmRegistry[]) => {
    const shown = [];
    for (const r of found) if (await call.can(`${A}/read`, r.id)) shown.push(registryView(r));
    return ok(listView(shown));
  };

  return [
    {
      path: new RegExp(`^${SUB}/${PROVIDER}/checkNameAvailability$`, 'i'),
      methods: {
        POST: async (call) => {
          await call.authorize('Microsoft.ContainerRegistry/checkNameAvailability/read', subscriptionResourceId(call.params[0]!));
          const body = await call.body();
          return ok(await registries.checkNameAvailability(typeof body['name'] === 'string' ? body['name'] : ''));
        },
      },
    },
    {
      path: new RegExp(`^${SUB}/${PROVIDER}/registries$`, 'i'),
      methods: { GET: async (call) => listReadable(call, await registries.list(call.params[0]!)) },
    },
    {
      path: new RegExp(`^${SUB}/resourcegroups/([^/]+)/${PROVIDER}/registries$`, 'i'),
      methods: { GET: async (call) => listReadable(call, await registries.list(call.params[0]!, call.params[1]!)) },
    },
    {
      path: new RegExp(`^${REGISTRY}$`, 'i'),
      methods: {
        GET: async (call) => ok(registryView(await authorized(call, `${A}/read`))),
        PUT: async (call) => {
          await call.authorize(`${A}/write`, registryScope(call));
          const [s, rg, name] = call.params as [string, string, string];
          const body = await call.body();
          const result = await registries.put(s, rg, name, { location: body['location'], tags: body['tags'], sku: body['sku'], ...pick(propertiesOf(body)) });
          return result.created ? created(registryView(result.registry)) : ok(registryView(result.registry));
        },
        PATCH: async (call) => {
          await call.authorize(`${A}/write`, registryScope(call));
          const [s, rg, name] = call.params as [string, string, string];
          const body = await call.body();
          return ok(registryView(await registries.patch(s, rg, name, { tags: body['tags'], sku: body['sku'], ...pick(propertiesOf(body)) })));
        },
        DELETE: async (call) => {
          await call.authorize(`${A}/delete`, registryScope(call));
          const [s, rg, name] = call.params as [string, string, string];
          return deleted(await registries.delete(s, rg, name));
        },
      },
    },
    {
      path: new RegExp(`^${REGISTRY}/listCredentials$`, 'i'),
      methods: { POST: async (call) => ok(await registries.listCredentials(await authorized(call, `${A}/listCredentials/action`))) },
    },
    {
      path: new RegExp(`^${REGISTRY}/regenerateCredential$`, 'i'),
      methods: {
        POST: async (call) => {
          const r = await authorized(call, `${A}/regenerateCredential/action`);
          return ok(await registries.regenerateCredential(r, (await call.body())['name']));
        },
      },
    },
    {
      path: new RegExp(`^${REGISTRY}/generateCredentials$`, 'i'),
      methods: {
        POST: async (call) => {
          const r = await authorized(call, `${A}/generateCredentials/action`);
          return ok(await registries.generateCredentials(r, await call.body()));
        },
      },
    },
    {
      path: new RegExp(`^${REGISTRY}/scopeMaps$`, 'i'),
      methods: {
        GET: async (call) => {
          const r = await authorized(call, `${A}/scopeMaps/read`);
          return ok(listView((await registries.listScopeMaps(r)).map((m) => scopeMapView(r, m))));
        },
      },
    },
    {
      path: new RegExp(`^${REGISTRY}/scopeMaps/([^/]+)$`, 'i'),
      methods: {
        GET: async (call) => {
          const r = await authorized(call, `${A}/scopeMaps/read`);
          return ok(scopeMapView(r, await registries.scopeMap(r, call.params[3]!)));
        },
        PUT: async (call) => {
          const r = await authorized(call, `${A}/scopeMaps/write`);
          const p = propertiesOf(await call.body());
          return ok(scopeMapView(r, await registries.putScopeMap(r, call.params[3]!, { description: p['description'], actions: p['actions'] })));
        },
        PATCH: async (call) => {
          const r = await authorized(call, `${A}/scopeMaps/write`);
          const current = await registries.scopeMap(r, call.params[3]!);
          const p = propertiesOf(await call.body());
          return ok(scopeMapView(r, await registries.putScopeMap(r, current.name, {
            description: p['description'] ?? current.description, actions: p['actions'] ?? current.actions,
          })));
        },
        DELETE: async (call) => {
          const r = await authorized(call, `${A}/scopeMaps/delete`);
          return deleted(await registries.deleteScopeMap(r, call.params[3]!));
        },
      },
    },
    {
      path: new RegExp(`^${REGISTRY}/tokens$`, 'i'),
      methods: {
        GET: async (call) => {
          const r = await authorized(call, `${A}/tokens/read`);
          return ok(listView((await registries.listTokens(r)).map((t) => tokenView(r, t))));
        },
      },
    },
    {
      path: new RegExp(`^${REGISTRY}/tokens/([^/]+)$`, 'i'),
      methods: {
        GET: async (call) => {
          const r = await authorized(call, `${A}/tokens/read`);
          return ok(tokenView(r, await registries.token(r, call.params[3]!)));
        },
        PUT: async (call) => {
          const r = await authorized(call, `${A}/tokens/write`);
          const p = propertiesOf(await call.body());
          return ok(tokenView(r, await registries.putToken(r, call.params[3]!, { scopeMapId: p['scopeMapId'], status: p['status'] })));
        },
        PATCH: async (call) => {
          const r = await authorized(call, `${A}/tokens/write`);
          const current = await registries.token(r, call.params[3]!);
          const p = propertiesOf(await call.body());
          return ok(tokenView(r, await registries.putToken(r, current.name, {
            scopeMapId: p['scopeMapId'] ?? `${r.id}/scopeMaps/${current.scopeMapName}`, status: p['status'] ?? current.status,
          })));
        },
        DELETE: async (call) => {
          const r = await authorized(call, `${A}/tokens/delete`);
          return deleted(await registries.deleteToken(r, call.params[3]!));
        },
      },
    },
  ];
}

/** The registry properties a PUT or PATCH may set. */
function pick(p: Record<string, unknown>): { adminUserEnabled?: unknown; anonymousPullEnabled?: unknown } {
  return { adminUserEnabled: p['adminUserEnabled'], anonymousPullEnabled: p['anonymousPullEnabled'] };
}
