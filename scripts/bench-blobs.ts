/**
 * Blob transfers for `npm run bench`: pushes and pulls repeated by one client against Anchorage and against the
 * CNCF distribution registry, timed, with the server's CPU seconds (user and system, every thread) per GiB. They
 * show the servers apart from the comparison's one fresh-client pull per alternation.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../test/helpers/server.js';

const PIECE = 4 * 1024 * 1024;
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in hundredths of a second. */
const TICKS_PER_SECOND = 100;

export interface Registry {
  url: string;
  pid: number;
  /** Sent with every request; undefined for anonymous access. */
  authorization?: string;
}

/** A blob generated for the bench: one random piece repeated, the first copy marked to make its digest its own. */
export interface GeneratedBlob {
  piece: Buffer;
  first: Buffer;
  pieces: number;
  size: number;
  digest: string;
}

export interface TransferFigures {
  pushSecondsPerGiB: number;
  pullSecondsPerGiB: number;
  /** Medians over the same transfers: one client, one transfer at a time, several in a row. */
  pushMiBps: number;
  pullMiBps: number;
}

/**
 * A blob of `mib` MiB made of one random 4 MiB piece repeated, so that it is streamed and never whole in memory;
 * `seed` makes its first bytes, and so its digest, its own.
 */
export function repeatedBlob(mib: number, seed: number): GeneratedBlob {
  const piece = randomBytes(PIECE);
  const first = Buffer.from(piece);
  first.writeUInt32BE(seed, 0);
  const pieces = mib / 4;
  const hash = createHash('sha256').update(first);
  for (let i = 1; i < pieces; i++) hash.update(piece);
  return { piece, first, pieces, size: pieces * PIECE, digest: `sha256:${hash.digest('hex')}` };
}

/** Pushes a blob as docker does: POST opens an upload, one streamed PUT with `?digest=` fills and closes it; MiB/s. */
export async function pushBlob(registry: Registry, repository: string, blob: GeneratedBlob): Promise<number> {
  const started = performance.now();
  const location = await new Promise<URL>((done, fail) => {
    const url = new URL(`/v2/${repository}/blobs/uploads/`, registry.url);
    request(url, { method: 'POST', headers: { 'content-length': 0, ...auth(registry) } }, (res) => {
      res.resume();
      if (res.statusCode !== 202 || !res.headers.location) fail(new Error(`starting an upload answered ${res.statusCode}`));
      else done(new URL(res.headers.location, registry.url));
    }).on('error', fail).end();
  });
  location.searchParams.set('digest', blob.digest);
  return new Promise<number>((done, fail) => {
    const req = request(location, { method: 'PUT', headers: { 'content-length': blob.size, 'content-type': 'application/octet-stream', ...auth(registry) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? done(mibps(blob.size, started)) : fail(new Error(`push answered ${res.statusCode}`))));
    });
    req.on('error', fail);
    let i = 0;
    const pump = (): void => {
      while (i < blob.pieces) {
        if (!req.write(i++ === 0 ? blob.first : blob.piece)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** Pulls a blob, checks its length and resolves with the MiB/s. */
export function pullBlob(registry: Registry, repository: string, digest: string, size: number): Promise<number> {
  const started = performance.now();
  return new Promise<number>((done, fail) => {
    request(new URL(`/v2/${repository}/blobs/${digest}`, registry.url), { headers: auth(registry) }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => { n += d.length; });
      res.on('end', () => (n === size ? done(mibps(size, started)) : fail(new Error(`pulled ${n} of ${size} bytes`))));
    }).on('error', fail).end();
  });
}

/** `blobs` pushes of `mib` MiB, each then pulled twice: the median MiB/s and the server's CPU seconds per GiB. */
export async function repeatedTransfers(registry: Registry, blobs: number, mib: number): Promise<TransferFigures> {
  const pushed: GeneratedBlob[] = [];
  const pushRates: number[] = [];
  const pullRates: number[] = [];
  let push = 0;
  let pull = 0;
  for (let i = 0; i < blobs; i++) {
    const blob = repeatedBlob(mib, 1000 + i);
    const before = cpuSeconds(registry.pid);
    pushRates.push(await pushBlob(registry, 'bench/cost', blob));
    push += cpuSeconds(registry.pid) - before;
    pushed.push(blob);
  }
  for (const blob of pushed) {
    for (let i = 0; i < 2; i++) {
      const before = cpuSeconds(registry.pid);
      pullRates.push(await pullBlob(registry, 'bench/cost', blob.digest, blob.size));
      pull += cpuSeconds(registry.pid) - before;
    }
  }
  const gib = (blobs * mib) / 1024;
  return {
    pushSecondsPerGiB: round(push / gib),
    pullSecondsPerGiB: round(pull / (2 * gib)),
    pushMiBps: median(pushRates),
    pullMiBps: median(pullRates),
  };
}

/** Runs `work` against Debian's docker-registry, configured as ../shared/bench/vs-distribution.sh configures it. */
export async function withDistribution<T>(work: (registry: Registry) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'anchorage-bench-distribution-'));
  const port = await freePort();
  writeFileSync(join(dir, 'config.yml'), `version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: ${dir}/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:${port}}
`);
  const server = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  try {
    const url = `http://127.0.0.1:${port}`;
    await untilAnswering(url, server.pid!);
    return await work({ url, pid: server.pid! });
  } finally {
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function untilAnswering(url: string, pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((answer) => {
      request(new URL('/v2/', url), (res) => { res.resume(); answer(res.statusCode === 200); }).on('error', () => answer(false)).end();
    });
    if (up) return;
    await sleep(100);
  }
  throw new Error(`docker-registry (pid ${pid}) did not answer at ${url}`);
}

function cpuSeconds(pid: number): number {
  // The command name, field 2, may hold spaces; utime and stime are fields 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function auth(registry: Registry): Record<string, string> {
  return registry.authorization ? { authorization: registry.authorization } : {};
}

function mibps(bytes: number, started: number): number {
  return Math.round(bytes / 2 ** 20 / ((performance.now() - started) / 1000));
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
