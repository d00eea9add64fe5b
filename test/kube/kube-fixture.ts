import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROLE_IDS } from '../../src/rbac/builtin-roles.js';
import { HttpClient } from '../../src/kube/http-client.js';
import { makeNodeConfig } from '../../src/kube/node-config.js';
import { loadConfig } from '../../src/config/config.js';
import { openAnchorage } from '../../src/server/anchorage.js';
import { ensureLocalTls } from '../../src/tls/local-ca.js';
import { bootstrap, type BootstrapInfo } from '../../src/server/bootstrap.js';
import type { ImageLayout } from '../helpers/oci-image.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The seed's environment on a TLS server, as the Kubernetes-side tests need it: the first start's tenant,
 * subscription, resource group, registry (no anonymous pull) and cluster with its service principal, plus a
 * second registry the cluster is never granted anything on, and a scratch folder.
 */
export interface KubeFixture {
  server: TestServer;
  info: BootstrapInfo;
  /** The demo registry's login server (host:port). */
  loginServer: string;
  /** A registry of the same subscription with no role for the cluster. */
  otherLoginServer: string;
  ca: string;
  work: string;
  /** Writes the cluster's node configuration (azure.json) and returns its path. */
  writeAzureJson(): Promise<string>;
  /** Grants the cluster's service principal AcrPull on the demo registry; returns the assignment's name. */
  grantClusterPull(): Promise<string>;
  revoke(name: string): Promise<void>;
  /** Pushes an OCI layout to the demo (or another) registry as its admin user. */
  push(layout: ImageLayout, repository: string, loginServer?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startKubeFixture(): Promise<KubeFixture> {
  // The first start runs before the server listens, so that the registries it creates get their ports at once.
  const dataDir = await mkdtemp(join(tmpdir(), 'anchorage-kube-data-'));
  const first = await openAnchorage(loadConfig({ 'data-dir': dataDir }, {}));
  await first.registries.create('otherregistry', { anonymousPull: false });
  const { info } = await bootstrap(first, { caCertPath: ensureLocalTls(dataDir).caCertPath });
  first.close();
  const server = await startTestServer({ tls: true, anonymousPull: false, registryName: 'otherregistry', dataDir });
  const { app } = server;
  const ca = await readFile(server.caPath!, 'utf8');
  const work = await mkdtemp(join(tmpdir(), 'anchorage-kube-'));
  const registryId = app.arm.registries.resourceIdOf(info.demo.registry)!;
  const cluster = app.arm.clusters.get(info.subscriptionId, info.demo.resourceGroup, info.demo.cluster);
  const http = new HttpClient(ca);
  const admins = new Map<string, string>();
  for (const r of await app.registries.list()) {
    await app.access.setAdminUserEnabled(r.name, true);
    const admin = await app.access.adminCredentials(r.name);
    admins.set(r.loginServer, `Basic ${Buffer.from(`${admin.username}:${admin.passwords[0]!.value}`).toString('base64')}`);
  }
  return {
    server, info, ca, work,
    loginServer: info.demo.loginServer,
    otherLoginServer: server.registry.loginServer,
    async writeAzureJson() {
      const files = await makeNodeConfig(app, { cluster: info.demo.cluster, resourceGroup: info.demo.resourceGroup, caCertificate: ca });
      const path = join(work, 'azure.json');
      await writeFile(path, JSON.stringify(files.azureJson, null, 2), { mode: 0o600 });
      return path;
    },
    async grantClusterPull() {
      const name = randomUUID();
      await app.rbac.createAssignment({
        name, scope: registryId, roleDefinitionName: ROLE_IDS.acrPull, principalId: cluster.record.state.servicePrincipal!.objectId, principalType: 'ServicePrincipal',
      });
      return name;
    },
    async revoke(name) {
      await app.rbac.deleteAssignment(registryId, name);
    },
    async push(layout, repository, loginServer = info.demo.loginServer) {
      const base = `https://${loginServer}/v2/${repository}`;
      const auth = admins.get(loginServer)!;
      const put = async (url: string, method: string, body: Buffer, contentType: string): Promise<void> => {
        const res = await http.send(url, { method, headers: { Authorization: auth, 'Content-Type': contentType }, body });
        if (res.status !== 201) throw new Error(`${method} ${url}: ${res.status} ${res.body.toString('utf8')}`);
      };
      const blobs = new Set(layout.images.flatMap((i) => [i.config, ...i.layers].map((d) => d.digest)));
      for (const digest of blobs) {
        await put(`${base}/blobs/uploads/?digest=${digest}`, 'POST', await readFile(join(layout.dir, 'blobs', 'sha256', digest.slice(7))), 'application/octet-stream');
      }
      if (layout.images.length > 1) for (const image of layout.images) await put(`${base}/manifests/${image.manifest.digest}`, 'PUT', image.manifestBytes, image.manifest.mediaType);
      await put(`${base}/manifests/${layout.tag}`, 'PUT', layout.topBytes, layout.top.mediaType);
    },
    async close() {
      http.close();
      await server.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
