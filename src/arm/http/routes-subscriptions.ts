import { resourceGroupNotFound, subscriptionNotFound } from '../errors.js';
import { fieldValue, onlyClauses, parseFilter } from '../odata-filter.js';
import { resourceGroupResourceId, resourceId, subscriptionResourceId } from '../resource-ids.js';
import type { ResourceManager } from '../resource-manager.js';
import type { SubscriptionRecord } from '../resource-store.js';
import { created, deleted, ok, type ArmCall, type ArmRoute } from './route.js';
import { genericResourceView, listView, resourceGroupView, subscriptionView, tenantView } from './views.js';

const SUB = '/subscriptions/([^/]+)';
const GROUP_ACTION = 'Microsoft.Resources/subscriptions/resourceGroups';

/** Tenants, subscriptions, resource groups, and the generic `/resources` listing. */
export function subscriptionRoutes(arm: ResourceManager): ArmRoute[] {
  const { subscriptions, rbac } = arm;

  /**
   * A subscription is visible to a principal with any role assignment in it, at or below it, as in Azure,
   * where a resource-group Reader still sees its subscription (and `az login` lists it).
   */
  const visible = async (call: ArmCall, s: SubscriptionRecord): Promise<boolean> =>
    (await rbac.listAssignments({ scope: subscriptionResourceId(s.subscriptionId), mode: 'atAndBelow', principalId: call.caller.objectId })).length > 0;

  const visibleSubscription = async (call: ArmCall, id: string): Promise<SubscriptionRecord> => {
    const s = subscriptions.get(id);
    if (!(await visible(call, s))) throw subscriptionNotFound(id);
    return s;
  };

  const listResources = async (call: ArmCall, subscriptionId: string, resourceGroup?: string) => {
    await visibleSubscription(call, subscriptionId);
    const filter = call.query.get('$filter');
    const clauses = parseFilter(filter);
    onlyClauses(clauses, { fields: ['resourcetype', 'name', 'resourcegroup'] }, filter);
    const type = fieldValue(clauses, 'resourcetype');
    const name = fieldValue(clauses, 'name')?.toLowerCase();
    const group = resourceGroup ?? fieldValue(clauses, 'resourcegroup');
    const records = subscriptions.resources({ subscriptionId, ...(group !== undefined ? { resourceGroup: group } : {}), ...(type !== undefined ? { type } : {}) })
      .filter((r) => name === undefined || r.name.toLowerCase() === name);
    const readable = [];
    for (const r of records) {
      if (await call.can(`${r.type}/read`, resourceId(r.subscriptionId, r.resourceGroup, r.type, r.name))) readable.push(genericResourceView(r));
    }
    return ok(listView(readable));
  };

  return [
    {
      path: /^\/tenants$/i,
      methods: { GET: async (call) => ok(listView([tenantView(call.caller.tenantId)])) },
    },
    {
      path: /^\/subscriptions$/i,
      methods: {
        GET: async (call) => {
          const shown = [];
          for (const s of subscriptions.list()) if (await visible(call, s)) shown.push(subscriptionView(s));
          return ok(listView(shown));
        },
      },
    },
    {
      path: new RegExp(`^${SUB}$`, 'i'),
      methods: { GET: async (call) => ok(subscriptionView(await visibleSubscription(call, call.params[0]!))) },
    },
    {
      path: new RegExp(`^${SUB}/resourcegroups$`, 'i'),
      methods: {
        GET: async (call) => {
          const [s] = call.params as [string];
          await visibleSubscription(call, s);
          const shown = [];
          for (const g of subscriptions.listResourceGroups(s)) {
            if (await call.can(`${GROUP_ACTION}/read`, resourceGroupResourceId(g.subscriptionId, g.name))) shown.push(resourceGroupView(g));
          }
          return ok(listView(shown));
        },
      },
    },
    {
      path: new RegExp(`^${SUB}/resourcegroups/([^/]+)$`, 'i'),
      methods: {
        GET: async (call) => {
          const [s, rg] = call.params as [string, string];
          await call.authorize(`${GROUP_ACTION}/read`, resourceGroupResourceId(s, rg));
          return ok(resourceGroupView(subscriptions.getResourceGroup(s, rg)));
        },
        // `az group exists`: 204 or 404, no body.
        HEAD: async (call) => {
          const [s, rg] = call.params as [string, string];
          await call.authorize(`${GROUP_ACTION}/read`, resourceGroupResourceId(s, rg));
          subscriptions.getResourceGroup(s, rg);
          return { status: 204 };
        },
        PUT: async (call) => {
          const [s, rg] = call.params as [string, string];
          await call.authorize(`${GROUP_ACTION}/write`, resourceGroupResourceId(s, rg));
          const body = await call.body();
          const result = subscriptions.putResourceGroup({ subscriptionId: s, name: rg, location: body['location'], tags: body['tags'] });
          return result.created ? created(resourceGroupView(result.group)) : ok(resourceGroupView(result.group));
        },
        PATCH: async (call) => {
          const [s, rg] = call.params as [string, string];
          await call.authorize(`${GROUP_ACTION}/write`, resourceGroupResourceId(s, rg));
          const body = await call.body();
          return ok(resourceGroupView(subscriptions.patchResourceGroup(s, rg, { tags: body['tags'] })));
        },
        DELETE: async (call) => {
          const [s, rg] = call.params as [string, string];
          await call.authorize(`${GROUP_ACTION}/delete`, resourceGroupResourceId(s, rg));
          if (!(await subscriptions.deleteResourceGroup(s, rg))) throw resourceGroupNotFound(rg);
          return deleted(true);
        },
      },
    },
    {
      path: new RegExp(`^${SUB}/resources$`, 'i'),
      methods: { GET: (call) => listResources(call, call.params[0]!) },
    },
    {
      path: new RegExp(`^${SUB}/resourcegroups/([^/]+)/resources$`, 'i'),
      methods: { GET: (call) => listResources(call, call.params[0]!, call.params[1]!) },
    },
  ];
}
