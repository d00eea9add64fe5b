import { createServer } from 'node:net';
import { RegistryError } from './errors.js';
import type { MetadataStore, RegistryRecord } from './metadata.js';
import { checkRegistryName } from './names.js';

export interface RegistryDirectoryOptions {
  /** With a domain, registries are served as NAME.DOMAIN by Host header; without, each on a loopback port of its own. */
  registryDomain?: string;
  /** The server's main port: a domain login server names it unless it is 443; per-registry ports follow it. */
  mainPort: number;
  host: string;
}

/** The registries this server hosts, with their login servers. The resource manager creates registries through it too. */
export class RegistryDirectory {
  private byLoginServer = new Map<string, RegistryRecord>();
  private byPort = new Map<number, RegistryRecord>();

  constructor(private readonly metadata: MetadataStore, private readonly options: RegistryDirectoryOptions) {}

  async create(name: string, settings: { anonymousPull?: boolean; resourceId?: string } = {}): Promise<RegistryRecord> {
    const canonical = checkRegistryName(name);
    if (await this.metadata.getRegistry(canonical)) {
      throw new RegistryError('DENIED', `registry ${canonical} already exists`, undefined, 409);
    }
    const { registryDomain, mainPort } = this.options;
    let port: number | null = null;
    let loginServer: string;
    if (registryDomain) {
      loginServer = `${canonical}.${registryDomain}${mainPort === 443 ? '' : `:${mainPort}`}`;
    } else {
      port = await this.freePort();
      loginServer = `localhost:${port}`;
    }
    const created = await this.metadata.createRegistry({ name: canonical, loginServer, port, ...settings });
    await this.refresh();
    return created;
  }

  async update(name: string, patch: { anonymousPull?: boolean; gcUntagged?: boolean; resourceId?: string }): Promise<RegistryRecord> {
    const updated = await this.metadata.updateRegistry(name.toLowerCase(), patch);
    if (!updated) throw unknownRegistry(name);
    await this.refresh();
    return updated;
  }

  async get(name: string): Promise<RegistryRecord> {
    const found = await this.metadata.getRegistry(name.toLowerCase());
    if (!found) throw unknownRegistry(name);
    return found;
  }

  list(): Promise<RegistryRecord[]> {
    return this.metadata.listRegistries();
  }

  async delete(name: string): Promise<void> {
    if (!(await this.metadata.deleteRegistry(name.toLowerCase()))) throw unknownRegistry(name);
    await this.refresh();
  }

  /** Rereads the registries, so that changes made by another process (the CLI, a replica) are served. */
  async refresh(): Promise<RegistryRecord[]> {
    const all = await this.metadata.listRegistries();
    this.byLoginServer = new Map(all.map((r) => [r.loginServer.toLowerCase(), r]));
    this.byPort = new Map(all.filter((r) => r.port !== null).map((r) => [r.port!, r]));
    return all;
  }

  /** The registries as of the last refresh. */
  listCached(): Iterable<RegistryRecord> {
    return this.byLoginServer.values();
  }

  /** The registry a request is for: by the port it arrived on, else by its Host header. */
  resolve(localPort: number | undefined, host: string | undefined): RegistryRecord | undefined {
    if (localPort !== undefined) {
      const byPort = this.byPort.get(localPort);
      if (byPort) return byPort;
    }
    if (!host || !this.options.registryDomain) return undefined;
    const h = host.toLowerCase();
    return this.byLoginServer.get(h) ?? this.byLoginServer.get(`${h}:${this.options.mainPort}`)
      ?? this.byLoginServer.get(h.replace(/:443$/, ''));
  }

  private async freePort(): Promise<number> {
    const taken = new Set((await this.metadata.listRegistries()).map((r) => r.port));
    for (let port = this.options.mainPort + 1; port < 65536; port++) {
      if (!taken.has(port) && (await portIsFree(this.options.host, port))) return port;
    }
    throw new RegistryError('UNAVAILABLE', 'no free port is left for a new registry');
  }
}

function unknownRegistry(name: string): RegistryError {
  return new RegistryError('NAME_UNKNOWN', `registry ${name} does not exist`);
}

/** Whether a port is free on the host; any failure but a port in use (a host that is not this machine's) is thrown. */
function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(new RegistryError('UNAVAILABLE', `cannot listen on ${host}:${port} for a new registry: ${err.message}`));
    });
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}
