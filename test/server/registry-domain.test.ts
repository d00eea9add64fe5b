import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { openAnchorage, type Anchorage } from '../../src/server/anchorage.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { freePort } from '../helpers/server.js';

/** One request to the main port with the Host header a client of NAME.DOMAIN sends (no DNS involved). */
function get(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject).end();
  });
}

describe('--registry-domain: registries served as NAME.DOMAIN by Host header on the main port', () => {
  let dir: string;
  let port: number;
  let app: Anchorage;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anchorage-domain-'));
    port = await freePort();
    app = await openAnchorage(loadConfig({ 'data-dir': dir, port: String(port), 'no-tls': true, 'registry-domain': 'registry.example' }, {}));
    await app.registries.create('teamregistry', { anonymousPull: true });
    await app.registries.create('otherregistry');
    server = await startServer(app, undefined, pino({ level: 'silent' }));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names each registry NAME.DOMAIN:PORT and gives it no port of its own', async () => {
    const r = await app.registries.get('teamregistry');
    assert.equal(r.loginServer, `teamregistry.registry.example:${port}`);
    assert.equal(r.port, null);
  });

  it('serves the registry the Host names, with its own realm in the challenge', async () => {
    const team = await get(port, `teamregistry.registry.example:${port}`, '/v2/');
    assert.equal(team.status, 401);
    assert.equal(team.headers['www-authenticate'],
      `Bearer realm="http://teamregistry.registry.example:${port}/oauth2/token",service="teamregistry.registry.example:${port}"`);
    const other = await get(port, `OtherRegistry.Registry.Example:${port}`, '/v2/');
    assert.equal(other.status, 401);
    assert.match(String(other.headers['www-authenticate']), /service="otherregistry\.registry\.example:\d+"/);
  });

  it('keeps registries apart: anonymous pull is one registry\'s setting', async () => {
    const anonymous = await get(port, `teamregistry.registry.example:${port}`, '/v2/library/app/tags/list');
    assert.equal(anonymous.status, 404, 'anonymous pull reaches the repository lookup');
    assert.equal(JSON.parse(anonymous.body).errors[0].code, 'NAME_UNKNOWN');
    const refused = await get(port, `otherregistry.registry.example:${port}`, '/v2/library/app/tags/list');
    assert.equal(refused.status, 401);
    assert.equal(JSON.parse(refused.body).errors[0].code, 'UNAUTHORIZED');
  });

  it('answers a Host that names no registry with 404 NAME_UNKNOWN, not another registry', async () => {
    const r = await get(port, `missing.registry.example:${port}`, '/v2/');
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).errors[0].code, 'NAME_UNKNOWN');
  });
});
