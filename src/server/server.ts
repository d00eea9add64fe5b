import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { RegistryError } from '../registry/errors.js';
import { RegistryRouter } from '../registry/http/router.js';
import { sendRegistryError, writeRegistryErrorToSocket } from '../registry/http/respond.js';
import type { RegistryRecord } from '../registry/metadata.js';
import type { TlsMaterial } from '../tls/local-ca.js';
import { GraphHttpPlane } from '../graph/plane.js';
import { IdentityHttpPlane } from '../identity/http/plane.js';
import { ArmPlane } from '../arm/http/plane.js';
import type { Anchorage } from './anchorage.js';
import { isClientGone } from './request-body.js';
import type { HttpPlane } from './plane.js';

/** How often the server rereads the registries, to serve ones created or deleted by another process. */
const RECONCILE_MS = 2_000;
/** How long a connection may carry nothing, neither way, mid-request, before it is closed. */
const SOCKET_IDLE_MS = 120_000;

export interface RunningServer {
  url: string;
  /** Listening registries, with the URL each is served at. */
  registries(): Array<{ registry: RegistryRecord; url: string }>;
  /** Stops accepting connections, lets in-flight requests finish, then closes the stores. */
  close(): Promise<void>;
}

/**
 * The HTTP(S) front: the main port, plus one port per registry when registries are not served by domain.
 * A request is for a registry when it arrives on that registry's port or names its login server as Host.
 */
export async function startServer(app: Anchorage, tls: TlsMaterial | undefined, log: Logger): Promise<RunningServer> {
  const { config } = app;
  const router = new RegistryRouter(app, log);
  /** The main port's planes, asked in order; registries are told apart by port or Host before them. */
  const planes: HttpPlane[] = [new IdentityHttpPlane(app.identity, config.publicUrl), new GraphHttpPlane(app.identity, config.publicUrl), new ArmPlane(app.arm, log)];
  const scheme = tls ? 'https' : 'http';

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const started = process.hrtime.bigint();
    if (config.logRequests) {
      res.once('finish', () => {
        log.info({ method: req.method, url: req.url, host: req.headers.host, status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
      });
    }
    const registry = app.registries.resolve(req.socket.localPort, req.headers.host);
    if (registry) {
      void router.handle(req, res, registry);
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const plane = planes.find((p) => p.claims(path));
    if (plane) {
      plane.handle(req, res).catch((err: unknown) => {
        if (isClientGone(err)) {
          log.debug({ plane: plane.name, method: req.method, url: req.url }, 'the client hung up mid-request');
          res.destroy();
          return;
        }
        log.error({ err, plane: plane.name, method: req.method, url: req.url }, 'request failed');
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
      return;
    }
    sendRegistryError(req, res, new RegistryError('NAME_UNKNOWN', noRegistryMessage(req.headers.host), undefined, 404));
  };

  const newServer = (): Server => {
    const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest) : createHttpServer(onRequest);
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    // A blob upload may rightly take hours, so no limit on a whole request; a connection on which nothing moves
    // for SOCKET_IDLE_MS is closed instead (a stalled upload is cut back to where the request found it, to resume).
    server.requestTimeout = 0;
    server.timeout = SOCKET_IDLE_MS;
    // What Node's parser refuses gets OCI error JSON (the main port's ARM and Graph clients too: it never reaches a plane).
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      // As Node's own handler: nothing can be written into a response already under way.
      const inProgress = (socket as Duplex & { _httpMessage?: { headersSent: boolean } })._httpMessage?.headersSent;
      if (!socket.writable || inProgress || err.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      writeRegistryErrorToSocket(socket, err.code === 'HPE_HEADER_OVERFLOW'
        ? new RegistryError('TOO_LARGE', 'the request headers exceed 16 KiB', undefined, 431)
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new RegistryError('UNAVAILABLE', 'the request headers did not arrive in time', undefined, 408)
          : new RegistryError('UNSUPPORTED', `the request is not valid HTTP/1.1 (${err.code ?? err.message})`, undefined, 400));
    });
    return server;
  };

  const listen = (server: Server, port: number): Promise<void> => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const main = newServer();
  await listen(main, config.port);
  const mainPort = (main.address() as { port: number }).port;
  const registryServers = new Map<number, { server: Server; registry: RegistryRecord }>();

  const reconcile = async (): Promise<void> => {
    const wanted = new Map((await app.registries.refresh()).filter((r) => r.port !== null).map((r) => [r.port!, r]));
    for (const [port, entry] of registryServers) {
      if (wanted.get(port)?.id !== entry.registry.id) {
        registryServers.delete(port);
        entry.server.close();
        entry.server.closeIdleConnections();
      }
    }
    for (const [port, registry] of wanted) {
      if (registryServers.has(port)) continue;
      const server = newServer();
      try {
        await listen(server, port);
        registryServers.set(port, { server, registry });
      } catch (err) {
        log.error({ err, registry: registry.name, port }, `cannot listen for registry ${registry.name} on port ${port}`);
      }
    }
  };
  await reconcile();
  let reconciling = false;
  const timer = setInterval(() => {
    if (reconciling) return;
    reconciling = true;
    reconcile().catch((err: unknown) => log.error({ err }, 'reloading registries failed')).finally(() => { reconciling = false; });
  }, RECONCILE_MS);
  timer.unref();

  const urlOf = (registry: RegistryRecord): string => `${scheme}://${registry.loginServer}`;
  return {
    url: `${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${mainPort}`,
    registries: () => [...app.registries.listCached()].map((registry) => ({ registry, url: urlOf(registry) })),
    close: async () => {
      clearInterval(timer);
      const servers = [main, ...[...registryServers.values()].map((e) => e.server)];
      // A keep-alive connection goes idle when its in-flight response ends; close it then, not when the client hangs up.
      const idle = setInterval(() => { for (const s of servers) s.closeIdleConnections(); }, 100);
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeIdleConnections();
      })));
      clearInterval(idle);
      app.close();
    },
  };
}

function noRegistryMessage(host: string | undefined): string {
  return `no registry is served at ${host ?? 'this address'}; see \`anchorage registry list\` for login servers`;
}
