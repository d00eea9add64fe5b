import type { Config } from '../config/config.js';
import { createLogger } from '../log.js';
import { openAnchorage } from '../server/anchorage.js';
import { bootstrap, bootstrapPath, seedExports } from '../server/bootstrap.js';
import { startServer } from '../server/server.js';
import { ensureLocalTls } from '../tls/local-ca.js';

export async function serve(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  const tls = config.tls ? ensureLocalTls(config.dataDir, [config.host, ...config.tlsNames]) : undefined;
  const app = await openAnchorage(config);
  const { info, created } = await bootstrap(app, { caCertPath: tls?.caCertPath ?? null });
  const server = await startServer(app, tls, log);

  const lines = [`Anchorage listening on ${server.url}`, `data: ${config.dataDir}`];
  for (const { registry, url } of server.registries()) lines.push(`registry ${registry.name}: ${url}`);
  if (tls) lines.push(`TLS: clients must trust ${tls.caCertPath} (see \`anchorage trust\`)`);
  lines.push(
    `${created ? 'first start: created' : 'environment:'} tenant ${info.tenantId}, subscription ${info.subscriptionId}, `
      + `administrator ${info.admin.appId} (its password is in ${bootstrapPath(config.dataDir)})`,
    'the seed\'s variables:', ...seedExports(info),
    'point clients here: `npx anchorage az-setup` (az), `npx anchorage trust` (podman, skopeo, containerd, Node SDKs), '
      + '`npx anchorage kube --help` (pull secrets, node configuration)');
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting for requests`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: finishing in-flight requests`);
    server.close().then(() => {
      console.log('stopped');
      process.exit(0);
    }, (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
