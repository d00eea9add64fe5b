import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { httpsFetch, runCli, startServe, type ServeProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/server.js';

/** Polls until `probe` holds, for at most `ms`. */
async function eventually(ms: number, probe: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

describe('anchorage serve', () => {
  let dataDir: string;
  let port: number;
  let serve: ServeProcess;
  let ca: string;
  let registryUrl: string;
  let authorization: string;

  let root: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'anchorage-cli-serve-'));
    // A folder that does not exist yet, as ./data on a fresh clone for `npm start`.
    dataDir = join(root, 'fresh', 'data');
    port = await freePort();
    serve = startServe(['--data-dir', dataDir, '--port', String(port)]);
    // The registry a fresh data folder starts with, whatever its name.
    registryUrl = (await serve.waitFor(/^registry \w+: (https:\/\/localhost:\d+)$/m))[1]!;
    await serve.waitFor(/^TLS: /m);
    ca = readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8');
    // The first start's administrator is Owner of the subscription the demo registry is in: it may push.
    const { admin } = JSON.parse(readFileSync(join(dataDir, 'bootstrap.json'), 'utf8')) as { admin: { appId: string; password: string } };
    authorization = `Basic ${Buffer.from(`${admin.appId}:${admin.password}`).toString('base64')}`;
  });

  after(async () => {
    if (serve.child.exitCode === null && serve.child.signalCode === null) {
      serve.child.kill('SIGKILL');
      await serve.exited;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('prints where it listens, its data folder, its first registry and the CA to trust', () => {
    const out = serve.stdout();
    assert.match(out, new RegExp(`^Anchorage listening on https://127\\.0\\.0\\.1:${port}$`, 'm'));
    assert.ok(out.split('\n').includes(`data: ${dataDir}`), out);
    assert.ok(out.split('\n').includes(`TLS: clients must trust ${join(dataDir, 'tls', 'ca.crt')} (see \`anchorage trust\`)`), out);
  });

  it('answers HTTPS with a certificate of the generated CA, and is not trusted without it', async () => {
    const r = await httpsFetch(`${registryUrl}/v2/`, { ca, headers: { authorization } });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body.toString()), {});
    const byIp = await httpsFetch(`${registryUrl.replace('localhost', '127.0.0.1')}/v2/`, { ca, headers: { authorization } });
    assert.equal(byIp.status, 200);
    await assert.rejects(httpsFetch(`${registryUrl}/v2/`), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });

  it('serves a registry created with the CLI while it runs within a few seconds, and stops serving it once deleted', async () => {
    const created = await runCli(['registry', 'create', 'latecomer', '--data-dir', dataDir, '--port', String(port)]);
    assert.equal(created.code, 0, created.stderr);
    const loginServer = /login server (localhost:\d+)/.exec(created.stdout)![1]!;
    const url = `https://${loginServer}/v2/`;
    // It answers with the registry's challenge: a registry made outside the resource manager has no role assignments yet.
    assert.ok(await eventually(6_000, async () => (await httpsFetch(url, { ca })).status === 401), `${url} answers`);

    const deleted = await runCli(['registry', 'delete', 'latecomer', '--data-dir', dataDir, '--port', String(port)]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.ok(await eventually(6_000, async () => {
      await httpsFetch(url, { ca }).then(() => { throw new Error('still served'); }, (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ECONNREFUSED') throw err;
      });
      return true;
    }), `${url} is no longer served`);
  });

  it('on SIGTERM finishes an in-flight streamed upload, refuses new connections, closes the database and exits 0', async () => {
    const started = await httpsFetch(`${registryUrl}/v2/slow/blobs/uploads/`, { method: 'POST', ca, headers: { authorization } });
    assert.equal(started.status, 202);
    const location = new URL(started.headers['location'] as string, registryUrl).href;

    // A keep-alive client, as registry clients are: the server must not wait for it to hang up.
    const agent = new Agent({ keepAlive: true, ca });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let response: Promise<{ status: number; range: string | undefined }>;
    const patch = request(location, { method: 'PATCH', agent, headers: { 'Content-Type': 'application/octet-stream', Authorization: authorization } });
    response = new Promise((resolve, reject) => {
      patch.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, range: res.headers['range'] }));
      });
      patch.on('error', reject);
    });
    patch.write(chunk);
    await sleep(300);

    serve.child.kill('SIGTERM');
    await serve.waitFor(/^SIGTERM: finishing in-flight requests$/m);
    // Refused, or reset when it reached the listening socket's backlog just before the socket closed.
    await assert.rejects(httpsFetch(`${registryUrl}/v2/`, { ca }), (err: NodeJS.ErrnoException) => ['ECONNREFUSED', 'ECONNRESET'].includes(err.code!));
    assert.equal(serve.child.exitCode, null, 'still running while a request is in flight');

    patch.write(chunk);
    await sleep(300);
    patch.end(chunk);
    assert.deepEqual(await response, { status: 202, range: `0-${3 * chunk.length - 1}` });

    const exit = await Promise.race([serve.exited, sleep(10_000, 'still running', { ref: false })]);
    agent.destroy();
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(serve.stdout(), /^stopped$/m);
    // A cleanly closed SQLite database in WAL mode checkpoints and removes its write-ahead log.
    assert.equal(existsSync(join(dataDir, 'anchorage.db-wal')), false, 'the database was closed');
    const db = new Database(join(dataDir, 'anchorage.db'), { readonly: true });
    try {
      const id = location.split('/').pop();
      assert.equal(db.prepare('SELECT size FROM uploads WHERE id = ?').pluck().get(id), 3 * chunk.length, 'the upload was recorded');
    } finally {
      db.close();
    }
  });
});
