import { resolve } from 'node:path';

/**
 * Anchorage's configuration, all of it: command-line flags override ANCHORAGE_* environment variables,
 * which override the embedded defaults below.
 */
export interface Config {
  /** Where the database, blobs, TLS material and bootstrap file live. */
  dataDir: string;
  host: string;
  port: number;
  /** HTTPS with the local CA (the default) or plain HTTP, for loopback clients that want it. */
  tls: boolean;
  /** Serve registries as NAME.DOMAIN on the main port instead of one loopback port each. */
  registryDomain: string | undefined;
  /** Extra names for the server certificate. */
  tlsNames: string[];
  /**
   * The URL clients reach the main port at (identity authority, Graph and resource manager endpoints, token issuer).
   * Default: http(s)://localhost:PORT, which the generated certificate covers.
   */
  publicUrl: string;
  /** One pino line per request, at info level. */
  logRequests: boolean;
  logLevel: string;
}

export const DEFAULTS: Config = {
  dataDir: 'data',
  host: '127.0.0.1',
  port: 8443,
  tls: true,
  registryDomain: undefined,
  tlsNames: [],
  publicUrl: 'https://localhost:8443',
  logRequests: false,
  logLevel: 'info',
};

/** Command-line options every command that opens the data folder accepts, as node:util parseArgs options. */
export const CONFIG_OPTIONS = {
  'data-dir': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'no-tls': { type: 'boolean' },
  'registry-domain': { type: 'string' },
  'tls-name': { type: 'string', multiple: true },
  'public-url': { type: 'string' },
  'log-requests': { type: 'boolean' },
  'log-level': { type: 'string' },
} as const;

export type ConfigFlags = Partial<{
  'data-dir': string; host: string; port: string; 'no-tls': boolean; 'registry-domain': string;
  'tls-name': string[]; 'public-url': string; 'log-requests': boolean; 'log-level': string;
}>;

export class ConfigError extends Error {}

/** pino's levels, and silent. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? env[`ANCHORAGE_${name}`];
  const portText = pick(flags.port, 'PORT');
  // Digits only: Number() would take "", "1e3" and "0x50"; and port 0 would leave login servers and URLs without one.
  const port = portText === undefined ? DEFAULTS.port : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new ConfigError(`invalid port ${JSON.stringify(portText)}: use 1 to 65535`);
  const domain = pick(flags['registry-domain'], 'REGISTRY_DOMAIN');
  if (domain !== undefined && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(domain)) {
    throw new ConfigError(`invalid registry domain ${JSON.stringify(domain)}`);
  }
  const noTlsEnv = env['ANCHORAGE_NO_TLS']?.toLowerCase();
  if (noTlsEnv !== undefined && !['', '0', '1', 'false', 'true'].includes(noTlsEnv)) {
    throw new ConfigError(`invalid ANCHORAGE_NO_TLS ${JSON.stringify(env['ANCHORAGE_NO_TLS'])}: use 1 or true, 0 or false`);
  }
  const tls = !(flags['no-tls'] ?? (noTlsEnv === '1' || noTlsEnv === 'true'));
  const publicUrl = (pick(flags['public-url'], 'PUBLIC_URL') ?? `${tls ? 'https' : 'http'}://localhost:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(publicUrl)) throw new ConfigError(`invalid public URL ${JSON.stringify(publicUrl)}: use scheme://host[:port]`);
  const names = flags['tls-name'] ?? env['ANCHORAGE_TLS_NAMES']?.split(',').filter(Boolean) ?? [];
  const dataDir = pick(flags['data-dir'], 'DATA_DIR') ?? DEFAULTS.dataDir;
  const logLevel = pick(flags['log-level'], 'LOG_LEVEL') ?? DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`invalid log level ${JSON.stringify(logLevel)}: use ${LOG_LEVELS.join(', ')}`);
  if (dataDir.trim() === '') throw new ConfigError('the data folder is an empty path: give --data-dir DIR');
  return {
    dataDir: resolve(dataDir),
    host: pick(flags.host, 'HOST') ?? DEFAULTS.host,
    port,
    tls,
    publicUrl,
    registryDomain: domain?.toLowerCase(),
    tlsNames: domain ? [...names, `*.${domain.toLowerCase()}`] : names,
    logRequests: flags['log-requests'] ?? env['ANCHORAGE_LOG_REQUESTS'] === '1',
    logLevel,
  };
}
