import { execFile } from 'node:child_process';
import { mkdir, copyFile, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { ImageLayout } from './oci-image.js';
import { authorizationFor } from './registry-client.js';

/**
 * What the real-client tests (skopeo, podman, containerd) share: running a command with a timeout and a
 * readable failure, the server's log kept in memory for that failure, the certs.d folder that makes a
 * client trust the local CA, and a small HTTPS pusher so a client's pull test does not depend on another client.
 */

export const COMMAND_TIMEOUT_MS = 120_000;

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** The server's log lines, the last `limit` of them, for failure messages. */
export interface MemoryLog {
  logger: Logger;
  tail(lines?: number): string;
  /** The requests logged so far (within the kept lines), to check which API paths a client took. */
  requests(): Array<{ method: string; url: string; status: number }>;
}

export function memoryLog(limit = 400, level = 'info'): MemoryLog {
  const lines: string[] = [];
  const logger = pino({ level }, {
    write(line: string) {
      lines.push(line.trimEnd());
      if (lines.length > limit) lines.shift();
    },
  });
  return {
    logger,
    tail: (n = 40) => lines.slice(-n).join('\n') || '(no server log lines)',
    requests: () => lines.map((l) => JSON.parse(l) as { msg?: string; method: string; url: string; status: number })
      .filter((e) => e.msg === 'request').map(({ method, url, status }) => ({ method, url, status })),
  };
}

export class CommandError extends Error {
  constructor(message: string, readonly stdout: string, readonly stderr: string) {
    super(message);
  }
}

/**
 * Runs a command; a non-zero exit, a signal or the timeout fails with the command line, both outputs and,
 * when given, the tail of the server's log: what one needs to see why a real client rejected a response.
 */
export function run(command: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; serverLog?: MemoryLog } = {}): Promise<CommandResult> {
  const timeout = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...options.env } },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string | null };
        const why = e.killed ? `timed out after ${timeout} ms` : e.code === 'ENOENT' ? 'is not installed (not found on PATH)' : `exited with ${e.code ?? e.signal}`;
        reject(new CommandError([
          `$ ${[command, ...args].map(quote).join(' ')}`,
          `${command} ${why}`,
          `--- stdout ---\n${tail(stdout)}`,
          `--- stderr ---\n${tail(stderr)}`,
          ...(options.serverLog ? [`--- server log (last lines) ---\n${options.serverLog.tail()}`] : []),
        ].join('\n'), stdout, stderr));
      });
  });
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function tail(text: string, max = 6000): string {
  return text.length > max ? `...${text.slice(-max)}` : text || '(empty)';
}

/** The registry's `host:port`, as clients name it in image references. */
export function hostOf(registryUrl: string): string {
  return new URL(registryUrl).host;
}

/** A containers-auth.json (`--authfile`, REGISTRY_AUTH_FILE) holding one registry's credentials, as `podman login` writes it. */
export async function authFile(path: string, host: string, credentials: { username: string; password: string }): Promise<string> {
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  return writeText(path, JSON.stringify({ auths: { [host]: { auth } } }));
}

/**
 * A Docker-style certs.d folder: `<root>/<host:port>/ca.crt`. podman and skopeo take `<root>/<host:port>`
 * as `--cert-dir`; it is the layout `anchorage trust` prints.
 */
export async function certsDir(root: string, host: string, caPath: string): Promise<string> {
  const dir = join(root, host);
  await mkdir(dir, { recursive: true });
  await copyFile(caPath, join(dir, 'ca.crt'));
  return dir;
}

/**
 * Pushes every blob and manifest of an OCI image layout to `<registry>/<repository>:<layout tag>` over HTTPS,
 * trusting `caPath`: monolithic blob uploads, then child manifests by digest, then the tagged top manifest.
 */
export async function pushLayout(registryUrl: string, caPath: string, repository: string, layout: ImageLayout): Promise<void> {
  const ca = await readFile(caPath);
  const blobs = new Set<string>();
  for (const image of layout.images) for (const d of [image.config, ...image.layers]) blobs.add(d.digest);
  for (const digest of blobs) {
    const body = await readFile(join(layout.dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
    await send(registryUrl, ca, 'POST', `/v2/${repository}/blobs/uploads/?digest=${digest}`, body, 'application/octet-stream', 201);
  }
  if (layout.images.length > 1 || layout.top.digest !== layout.images[0]!.manifest.digest) {
    for (const image of layout.images) {
      await send(registryUrl, ca, 'PUT', `/v2/${repository}/manifests/${image.manifest.digest}`, image.manifestBytes, image.manifest.mediaType, 201);
    }
  }
  await send(registryUrl, ca, 'PUT', `/v2/${repository}/manifests/${layout.tag}`, layout.topBytes, layout.top.mediaType, 201);
}

/** One HTTPS request, with the registry's test credentials (see useCredentials); anything but the expected status fails with the response body. */
export function send(registryUrl: string, ca: Buffer, method: string, path: string, body: Buffer | undefined, contentType: string | undefined, expected: number): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const authorization = authorizationFor(registryUrl);
    const req = request(new URL(path, registryUrl), {
      method, ca, timeout: COMMAND_TIMEOUT_MS,
      headers: {
        ...(contentType ? { 'Content-Type': contentType } : {}), ...(body ? { 'Content-Length': body.length } : {}),
        ...(authorization ? { Authorization: authorization } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks);
        if (res.statusCode !== expected) reject(new Error(`${method} ${path}: expected ${expected}, got ${res.statusCode}: ${text.toString('utf8')}`));
        else resolve({ headers: res.headers, body: text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes a file, making its folder first. */
export async function writeText(path: string, text: string): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}
