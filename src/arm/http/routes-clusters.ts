import { CLUSTER_TYPE, resourceId } from '../resource-ids.js';
import type { ResourceManager } from '../resource-manager.js';
import { created, deleted, ok, type ArmCall, type ArmRoute } from './route.js';
import { clusterView, listView } from './views.js';
import type { ManagedCluster } from '../clusters.js';

const SUB = '/subscriptions/([^/]+)';
const PROVIDER = 'providers/Microsoft\\.ContainerService';
const CLUSTER = `${SUB}/resourcegroups/([^/]+)/${PROVIDER}/managedClusters/([^/]+)`;
const A = CLUSTER_TYPE;

/** `Microsoft.ContainerService/managedClusters`. */
export function clusterRoutes(arm: ResourceManager): ArmRoute[] {
  const { clusters } = arm;
  const clusterScope = (call: ArmCall): string => {
    const [s, rg, name] = call.params as [string, string, string];
    return resourceId(s, rg, A, name);
  };
  const listReadable = async (call: ArmCall, found: ManagedCluster[]) => {
    const shown = [];
    for (const c of found) if (await call.can(`${A}/read`, c.id)) shown.push(clusterView(c));
    return ok(listView(shown));
  };
  const credentials = (kind: 'clusterUser' | 'clusterAdmin') => async (call: ArmCall) => {
    await call.authorize(`${A}/${kind === 'clusterUser' ? 'listClusterUserCredential' : 'listClusterAdminCredential'}/action`, clusterScope(call));
    const [s, rg, name] = call.params as [string, string, string];
    const kubeconfig = clusters.userKubeconfig(clusters.get(s, rg, name));
    return ok({ kubeconfigs: [{ name: kind, value: Buffer.from(kubeconfig).toString('base64') }] });
  };

  return [
    {
      path: new RegExp(`^${SUB}/${PROVIDER}/managedClusters$`, 'i'),
      methods: { GET: (call) => listReadable(call, clusters.list(call.params[0]!)) },
    },
    {
      path: new RegExp(`^${SUB}/resourcegroups/([^/]+)/${PROVIDER}/managedClusters$`, 'i'),
      methods: { GET: (call) => listReadable(call, clusters.list(call.params[0]!, call.params[1]!)) },
    },
    {
      path: new RegExp(`^${CLUSTER}$`, 'i'),
      methods: {
        GET: async (call) => {
          await call.authorize(`${A}/read`, clusterScope(call));
          const [s, rg, name] = call.params as [string, string, string];
          return ok(clusterView(clusters.get(s, rg, name)));
        },
        PUT: async (call) => {
          await call.authorize(`${A}/write`, clusterScope(call));
          const [s, rg, name] = call.params as [string, string, string];
          const body = await call.body();
          const result = await clusters.put(s, rg, name, {
            location: body['location'], tags: body['tags'], sku: body['sku'], identity: body['identity'], properties: body['properties'],
          });
          return result.created ? created(clusterView(result.cluster)) : ok(clusterView(result.cluster));
        },
        DELETE: async (call) => {
          await call.authorize(`${A}/delete`, clusterScope(call));
          const [s, rg, name] = call.params as [string, string, string];
          return deleted(await clusters.delete(s, rg, name));
        },
      },
    },
    {
      path: new RegExp(`^${CLUSTER}/listClusterUserCredential$`, 'i'),
      methods: { POST: credentials('clusterUser') },
    },
    {
      path: new RegExp(`^${CLUSTER}/listClusterAdminCredential$`, 'i'),
      methods: { POST: credentials('clusterAdmin') },
    },
  ];
}
