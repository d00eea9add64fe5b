import { bootstrap, type BootstrapInfo } from '../../src/server/bootstrap.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** A test server after its first start: the demo environment and the administrator of bootstrap.json. */
export interface ArmTestServer extends TestServer {
  info: BootstrapInfo;
  /** The main port's URL (identity, Graph, resource manager). */
  url: string;
  /** An ARM access token for an application, from the identity plane's token endpoint. */
  token(appId: string, secret: string, scope?: string): Promise<string>;
  /** The administrator's ARM token (Owner at the subscription). */
  adminToken(): Promise<string>;
  /** One ARM call; `api-version` is added unless the path has one or `apiVersion: null`. */
  call(method: string, path: string, options?: { token?: string | null; body?: unknown; rawBody?: string; apiVersion?: string | null }): Promise<ArmResponse>;
}

export interface ArmResponse {
  status: number;
  headers: Headers;
  json: any;
}

export const SUBSCRIPTION_SCOPE = (info: BootstrapInfo): string => `/subscriptions/${info.subscriptionId}`;
export const REGISTRY_ID = (info: BootstrapInfo, name = info.demo.registry): string =>
  `/subscriptions/${info.subscriptionId}/resourceGroups/${info.demo.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${name}`;
export const CLUSTER_ID = (info: BootstrapInfo, name = info.demo.cluster): string =>
  `/subscriptions/${info.subscriptionId}/resourceGroups/${info.demo.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${name}`;

export async function startArmTestServer(options: { tls?: boolean } = {}): Promise<ArmTestServer> {
  const base = await startTestServer({ tls: options.tls ?? false });
  const { info } = await bootstrap(base.app, { caCertPath: base.caPath ?? null });
  const url = base.server.url;
  let adminToken: string | undefined;

  const token = async (appId: string, secret: string, scope = 'https://management.azure.com/.default'): Promise<string> => {
    const res = await fetch(`${url}/${info.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope }),
    });
    const body = await res.json() as { access_token?: string };
    if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  };

  const call: ArmTestServer['call'] = async (method, path, o = {}) => {
    const apiVersion = o.apiVersion === undefined ? '2022-04-01' : o.apiVersion;
    const target = apiVersion === null || path.includes('api-version=') ? path : `${path}${path.includes('?') ? '&' : '?'}api-version=${apiVersion}`;
    const auth = o.token === undefined ? await server.adminToken() : o.token;
    const res = await fetch(`${url}${target}`, {
      method,
      headers: {
        ...(auth ? { Authorization: `Bearer ${auth}` } : {}),
        ...(o.body !== undefined || o.rawBody !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(o.rawBody !== undefined ? { body: o.rawBody } : o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };

  const server: ArmTestServer = {
    ...base, info, url, token, call,
    adminToken: async () => (adminToken ??= await token(info.admin.appId, info.admin.password)),
  };
  return server;
}
