import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { RegistryRecord } from '../../src/registry/metadata.js';
import { openAnchorage, type Anchorage } from '../../src/server/anchorage.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { ensureLocalTls } from '../../src/tls/local-ca.js';
import { useCredentials } from './registry-client.js';

export interface TestServer {
  app: Anchorage;
  server: RunningServer;
  config: Config;
  dataDir: string;
  /** The CA file clients must trust (TLS servers only). */
  caPath: string | undefined;
  /** The first registry, created with the server. */
  registry: RegistryRecord;
  /** Base URL of the first registry, e.g. https://localhost:40123 */
  registryUrl: string;
  /** The first registry's admin user, enabled so that the tests push and delete as a real client would, authenticated. */
  credentials: { username: string; password: string };
  /** Stops the server; with `keepData`, the data folder stays for a restart. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/** A free TCP port on loopback, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Enables a registry's admin user and makes the test helpers' requests to it authenticate with it; returns the credentials. */
export async function useAdminUser(app: Anchorage, registry: RegistryRecord, registryUrl: string): Promise<{ username: string; password: string }> {
  await app.access.setAdminUserEnabled(registry.name, true);
  const admin = await app.access.adminCredentials(registry.name);
  const credentials = { username: admin.username, password: admin.passwords[0]!.value };
  useCredentials(registryUrl, credentials);
  return credentials;
}

/**
 * Starts a real Anchorage server in this process on free ports with its own data folder,
 * with one registry (default name "testregistry").
 */
export async function startTestServer(options: {
  tls?: boolean; dataDir?: string; registryName?: string; anonymousPull?: boolean;
  /** Where the server logs, with one line per request; silent (or ANCHORAGE_TEST_LOG) otherwise. */
  logger?: Logger;
} = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'anchorage-test-'));
  const tls = options.tls ?? false;
  const port = await freePort();
  const config = loadConfig({ 'data-dir': dataDir, port: String(port), ...(tls ? {} : { 'no-tls': true }), ...(options.logger ? { 'log-requests': true } : {}) }, {});
  const material = tls ? ensureLocalTls(dataDir) : undefined;
  const app = await openAnchorage(config);
  const name = options.registryName ?? 'testregistry';
  const existing = (await app.registries.list()).find((r) => r.name === name);
  const registry = existing ?? (await app.registries.create(name, { anonymousPull: options.anonymousPull ?? true }));
  const registryUrl = `${tls ? 'https' : 'http'}://${registry.loginServer}`;
  const credentials = await useAdminUser(app, registry, registryUrl);
  const server = await startServer(app, material, options.logger ?? pino({ level: process.env['ANCHORAGE_TEST_LOG'] ?? 'silent' }));
  return {
    app, server, config, dataDir, registry, credentials, registryUrl,
    caPath: material?.caCertPath,
    close: async ({ keepData = false } = {}) => {
      await server.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
