/**
 * The registry token service's figures for `npm run bench`: tokens issued per second by /oauth2/token (password
 * and refresh grants), and manifest GETs per second with a bearer token against the same GETs anonymous.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface LoadResult {
  rps: number;
  p50ms: number;
  p99ms: number;
}

export interface AuthFigures {
  passwordGrant: LoadResult;
  refreshGrant: LoadResult;
  manifestAnonymous: LoadResult;
  manifestBearer: LoadResult;
}

interface Call {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

const REQUESTS = Number(process.env['AUTH_REQUESTS'] ?? 20000);
const CONCURRENCY = Number(process.env['CONC'] ?? 32);
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);

function send(base: URL, agent: Agent, call: Call): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(call.path, base), { method: call.method, agent, headers: call.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(call.body);
  });
}

/** `REQUESTS` calls at `CONCURRENCY` over keep-alive connections; any answer but 200 stops the run. */
async function load(base: URL, call: Call): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < REQUESTS) {
      const t = performance.now();
      const res = await send(base, agent, call);
      if (res.status !== 200) throw new Error(`${call.method} ${call.path} answered ${res.status}: ${res.body.toString('utf8')}`);
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 100) / 100;
  return { rps: Math.round(latencies.length / seconds), p50ms: at(0.5), p99ms: at(0.99) };
}

function median(results: LoadResult[]): LoadResult {
  return [...results].sort((a, b) => a.rps - b.rps)[Math.floor(results.length / 2)]!;
}

const form = (fields: Record<string, string>): Call => ({
  method: 'POST', path: '/oauth2/token', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
});

/**
 * Pushes a small image with the admin user, then measures. `allowAnonymousPull` switches the registry to anonymous
 * pull (the server sees it within its reconcile interval) for the anonymous figure.
 */
export async function benchAuth(registryUrl: string, admin: { username: string; password: string }, allowAnonymousPull: () => Promise<void>): Promise<AuthFigures> {
  const base = new URL(registryUrl);
  const agent = new Agent({ keepAlive: true });
  const basic = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`;
  const repository = 'bench/auth';
  const manifestDigest = await pushImage(base, agent, basic, repository);
  const service = base.host;
  const scope = `repository:${repository}:pull`;

  const offline = await send(base, agent, form({ grant_type: 'password', service, scope, username: admin.username, password: admin.password, access_type: 'offline' }));
  const { access_token: accessToken, refresh_token: refreshToken } = JSON.parse(offline.body.toString('utf8')) as { access_token: string; refresh_token: string };
  await allowAnonymousPull();
  for (const deadline = Date.now() + 10_000; (await send(base, agent, { method: 'GET', path: `/v2/${repository}/manifests/${manifestDigest}` })).status !== 200;) {
    if (Date.now() > deadline) throw new Error('the registry never allowed anonymous pull');
    await new Promise((r) => setTimeout(r, 200));
  }
  agent.destroy();

  const manifest = `/v2/${repository}/manifests/${manifestDigest}`;
  const accept = 'application/vnd.oci.image.manifest.v1+json';
  const runs: Record<keyof AuthFigures, LoadResult[]> = { passwordGrant: [], refreshGrant: [], manifestAnonymous: [], manifestBearer: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.passwordGrant.push(await load(base, form({ grant_type: 'password', service, scope, username: admin.username, password: admin.password })));
    runs.refreshGrant.push(await load(base, form({ grant_type: 'refresh_token', service, scope, refresh_token: refreshToken })));
    runs.manifestAnonymous.push(await load(base, { method: 'GET', path: manifest, headers: { Accept: accept } }));
    runs.manifestBearer.push(await load(base, { method: 'GET', path: manifest, headers: { Accept: accept, Authorization: `Bearer ${accessToken}` } }));
  }
  return {
    passwordGrant: median(runs.passwordGrant), refreshGrant: median(runs.refreshGrant),
    manifestAnonymous: median(runs.manifestAnonymous), manifestBearer: median(runs.manifestBearer),
  };
}

/** A config blob, a layer and an OCI manifest, pushed monolithically; returns the manifest's digest. */
async function pushImage(base: URL, agent: Agent, basic: string, repository: string): Promise<string> {
  const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = randomBytes(1024);
  for (const blob of [config, layer]) {
    const res = await send(base, agent, { method: 'POST', path: `/v2/${repository}/blobs/uploads/?digest=${digest(blob)}`, headers: { Authorization: basic }, body: blob });
    if (res.status !== 201) throw new Error(`pushing a blob answered ${res.status}: ${res.body.toString('utf8')}`);
  }
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest(layer), size: layer.length }],
  }));
  const res = await send(base, agent, {
    method: 'PUT', path: `/v2/${repository}/manifests/v1`, headers: { Authorization: basic, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest,
  });
  if (res.status !== 201) throw new Error(`pushing the manifest answered ${res.status}: ${res.body.toString('utf8')}`);
  return digest(manifest);
}
