/**
 * `npm run bench`: starts Anchorage on plain HTTP with a fresh data folder, runs the shared comparison with the
 * CNCF distribution registry (../shared/bench/vs-distribution.sh), measures the token service (bench-auth.ts), the
 * speed and server CPU per GiB of repeated pushes and pulls on each registry (bench-blobs.ts) and the server's peak resident memory
 * while a 2 GiB blob is pushed and pulled, and writes BENCHMARKS.md.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { openAnchorage } from '../src/server/anchorage.js';
import { freePort } from '../test/helpers/server.js';
import { benchAuth, type AuthFigures, type LoadResult } from './bench-auth.js';
import { pullBlob, pushBlob, repeatedBlob, repeatedTransfers, withDistribution, type Registry, type TransferFigures } from './bench-blobs.js';

const root = resolve(import.meta.dirname, '../..');
const compareScript = process.env['BENCH_SCRIPT'] ?? resolve(root, '../shared/bench/vs-distribution.sh');
const BIG_BLOB_MIB = Number(process.env['BIG_BLOB_MIB'] ?? 2048);
const COST_BLOBS = 4;
const COST_BLOB_MIB = 128;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'anchorage-bench-'));
  const port = await freePort();
  const server = spawn(process.execPath, [join(root, 'dist/src/cli/main.js'), 'serve', '--no-tls', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const { name, url: registryUrl } = await registryUrlOf(server);
    console.log(`bench: Anchorage at ${registryUrl} (pid ${server.pid})`);
    // Every registry request is authenticated: the bench pushes as the registry's admin user, set up through the
    // data folder as any process sharing it can (the server picks the change up).
    const app = await openAnchorage(loadConfig({ 'data-dir': dataDir, port: String(port), 'no-tls': true }, {}));
    let admin: { username: string; password: string };
    try {
      await app.access.setAdminUserEnabled(name, true);
      const credentials = await app.access.adminCredentials(name);
      admin = { username: credentials.username, password: credentials.passwords[0]!.value };
    } catch (err) {
      app.close();
      throw err;
    }
    const table = execFileSync('bash', [compareScript, registryUrl, '--user', admin.username, '--pass', admin.password],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } });
    console.log(table);
    console.log('bench: token issuance and manifest GETs with a bearer token and anonymous');
    const auth = await benchAuth(registryUrl, admin, async () => { await app.registries.update(name, { anonymousPull: true }); })
      .finally(() => app.close());
    console.log(JSON.stringify(auth));
    const ours: Registry = { url: registryUrl, pid: server.pid!, authorization: `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}` };
    console.log(`bench: repeated transfers, ${COST_BLOBS} blobs of ${COST_BLOB_MIB} MiB pushed and each pulled twice, on each registry`);
    const cost = { ours: await repeatedTransfers(ours, COST_BLOBS, COST_BLOB_MIB), distribution: await withDistribution((d) => repeatedTransfers(d, COST_BLOBS, COST_BLOB_MIB)) };
    console.log(JSON.stringify(cost));
    console.log(`bench: pushing and pulling a ${BIG_BLOB_MIB} MiB blob`);
    const memory = await bigBlob(ours);
    writeReport(table, auth, cost, memory);
    console.log(`bench: peak resident memory ${memory.peakMiB} MiB (push ${memory.pushMiBps} MiB/s, pull ${memory.pullMiBps} MiB/s); wrote BENCHMARKS.md`);
  } finally {
    server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function registryUrlOf(server: ChildProcess): Promise<{ name: string; url: string }> {
  return new Promise((resolveUrl, reject) => {
    let out = '';
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /registry (\S+): (http:\/\/\S+)/.exec(out);
      if (m) resolveUrl({ name: m[1]!, url: m[2]! });
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024);
}

/** Streams a blob of BIG_BLOB_MIB in and out (never whole in memory here either); the server's peak memory. */
async function bigBlob(registry: Registry): Promise<{ peakMiB: number; pushMiBps: number; pullMiBps: number }> {
  const blob = repeatedBlob(BIG_BLOB_MIB, 1);
  const pushMiBps = await pushBlob(registry, 'bench/big', blob);
  const pullMiBps = await pullBlob(registry, 'bench/big', blob.digest, blob.size);
  return { peakMiB: peakRssMiB(registry.pid), pushMiBps, pullMiBps };
}

function writeReport(table: string, auth: AuthFigures, cost: { ours: TransferFigures; distribution: TransferFigures }, memory: { peakMiB: number; pushMiBps: number; pullMiBps: number }): void {
  const row = (name: string, r: LoadResult) => `${name.padEnd(34)}${String(r.rps).padStart(8)}${String(r.p50ms).padStart(9)}${String(r.p99ms).padStart(9)}`;
  const ratio = auth.manifestBearer.rps / auth.manifestAnonymous.rps;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const report = join(root, 'BENCHMARKS.md');
  const md = `# Benchmarks

Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB,
Node.js ${process.version}. Anchorage on plain HTTP, authenticated as the registry's admin user (regbench answers the
Bearer challenge), against the CNCF distribution registry with anonymous access
(Debian's docker-registry) on the same machine, through \`../shared/bench/vs-distribution.sh\`
(medians over ${process.env['ROUNDS'] ?? 3} alternations; blob ${process.env['BLOB_MIB'] ?? 128} MiB; ${process.env['REQUESTS'] ?? 20000} manifest GETs at concurrency ${process.env['CONC'] ?? 32}).

\`\`\`
${table.trim()}
\`\`\`

## Registry token service

${process.env['AUTH_REQUESTS'] ?? 20000} requests at concurrency ${process.env['CONC'] ?? 32} over keep-alive connections, medians of ${process.env['ROUNDS'] ?? 3} rounds.
Tokens: \`POST /oauth2/token\` for \`repository:bench/auth:pull\`, as the admin user (password grant) and with its
refresh token (refresh grant); each is an ES256 JWT signed for the request. Manifest GETs: the same manifest by digest,
anonymous (the registry allows anonymous pull) and with a bearer token (verified, cached until it expires).

\`\`\`
${'figure'.padEnd(34)}${'per s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}
${row('token, password grant', auth.passwordGrant)}
${row('token, refresh grant', auth.refreshGrant)}
${row('manifest GET, anonymous', auth.manifestAnonymous)}
${row('manifest GET, bearer token', auth.manifestBearer)}
\`\`\`

A manifest GET with a bearer token runs at ${(ratio * 100).toFixed(0)}% of the anonymous rate.

## Server CPU per GiB, and repeated transfers

Throughput on this VM moves with its neighbours, its page cache and the client sharing the two cores; the CPU time
each server spends per GiB is a second view. It moves little for pulls; for pushes it includes the system time of
first touches of page-cache memory (see the notes), which moves from run to run. On each registry, ${COST_BLOBS}
blobs of ${COST_BLOB_MIB} MiB, each pushed (POST, then one streamed PUT) and pulled twice; user and system seconds
of the server process (every thread) per GiB, from \`/proc/<pid>/stat\`. Anchorage hashes what it receives
(SHA-256) and fsyncs each blob, as distribution does.

\`\`\`
${'CPU seconds per GiB'.padEnd(24)}${'ours'.padStart(8)}${'distribution'.padStart(14)}${'ours/dist'.padStart(11)}
${costRow('push', cost.ours.pushSecondsPerGiB, cost.distribution.pushSecondsPerGiB, 2)}
${costRow('pull', cost.ours.pullSecondsPerGiB, cost.distribution.pullSecondsPerGiB, 2)}
\`\`\`

The same transfers timed (medians; the comparison above times one pull per alternation, in a fresh client):

\`\`\`
${'MiB/s'.padEnd(24)}${'ours'.padStart(8)}${'distribution'.padStart(14)}${'ours/dist'.padStart(11)}
${costRow('push', cost.ours.pushMiBps, cost.distribution.pushMiBps, 0)}
${costRow('pull', cost.ours.pullMiBps, cost.distribution.pullMiBps, 0)}
\`\`\`

## Memory

A ${BIG_BLOB_MIB} MiB blob pushed (POST, then one streamed PUT) and pulled back: peak resident memory of the server
process (VmHWM) **${memory.peakMiB} MiB**; push ${memory.pushMiBps} MiB/s, pull ${memory.pullMiBps} MiB/s.
${handWrittenNotes(report)}`;
  writeFileSync(report, md);
}

function costRow(name: string, ours: number, distribution: number, decimals: number): string {
  return `${name.padEnd(24)}${ours.toFixed(decimals).padStart(8)}${distribution.toFixed(decimals).padStart(14)}${(ours / distribution).toFixed(2).padStart(11)}`;
}

/** The analysis people add under a `## Notes` heading at the end of the report outlives the run that rewrites the figures. */
function handWrittenNotes(report: string): string {
  const text = existsSync(report) ? readFileSync(report, 'utf8') : '';
  const at = text.indexOf('\n## Notes\n');
  return at < 0 ? '' : text.slice(at);
}

main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(1);
});
