import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runCli, startServe } from '../helpers/cli.js';
import { freePort } from '../helpers/server.js';
import { ensureLocalTls } from '../../src/tls/local-ca.js';

describe('anchorage trust', () => {
  let dataDir: string;
  let port: number;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'anchorage-cli-trust-'));
    port = await freePort();
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the CA file and the lines for az, Node, OpenSSL and certs.d of each login server', async () => {
    const created = await runCli(['registry', 'create', 'trusted01', '--data-dir', dataDir, '--port', String(port)]);
    assert.equal(created.code, 0, created.stderr);
    const loginServer = /login server (\S+)/.exec(created.stdout)![1]!;

    const r = await runCli(['trust', '--data-dir', dataDir, '--port', String(port)]);
    assert.equal(r.code, 0, r.stderr);
    const ca = join(dataDir, 'tls', 'ca.crt');
    assert.ok(new X509Certificate(readFileSync(ca)).ca, 'the file printed is the CA certificate');
    const lines = r.stdout.split('\n');
    const has = (re: RegExp): void => assert.ok(lines.some((l) => re.test(l)), `a line matching ${re} in:\n${r.stdout}`);
    const path = ca.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    has(new RegExp(`^# CA certificate: ${path}$`));
    has(new RegExp(`^export REQUESTS_CA_BUNDLE=${path}\\b`));
    has(new RegExp(`^export NODE_EXTRA_CA_CERTS=${path}\\b`));
    has(new RegExp(`^export SSL_CERT_FILE=${path}\\b`));
    has(new RegExp(` ${path} /etc/containers/certs\\.d/${loginServer}/ca\\.crt$`));
    has(new RegExp(` ${path} /etc/containerd/certs\\.d/${loginServer}/ca\\.crt$`));
  });

  it('the NODE_EXTRA_CA_CERTS line it prints makes Node trust the server', async () => {
    const r = await runCli(['trust', '--data-dir', dataDir, '--port', String(port)]);
    assert.equal(r.code, 0, r.stderr);
    const caFile = /^export NODE_EXTRA_CA_CERTS=(\S+)/m.exec(r.stdout)![1]!;
    const tls = ensureLocalTls(dataDir, ['127.0.0.1']);
    const server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.end('trusted'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://localhost:${(server.address() as { port: number }).port}/`;
      const script = `const r = await fetch(${JSON.stringify(url)}); process.stdout.write(await r.text());`;
      const run = promisify(execFile);
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile } });
      assert.equal(stdout, 'trusted');
      await assert.rejects(run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } }),
        'without the line, the server is not trusted');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('run before the first serve, it changes nothing serve does on a fresh data folder', async () => {
    const r = await runCli(['trust', '--data-dir', dataDir, '--port', String(port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dataDir, 'tls', 'ca.crt')));
    const caBefore = readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8');
    const serve = startServe(['--data-dir', dataDir, '--port', String(port)]);
    try {
      await serve.waitFor(/^TLS: /m);
      assert.match(serve.stdout(), /^registry \w+: https:\/\/localhost:\d+$/m, 'the first registry is created as on any fresh start');
      assert.equal(readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8'), caBefore, 'serve uses the CA trust printed');
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  });
});
