import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('anchorage keys', () => {
  let s: TestServer;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', s.dataDir, '--port', String(s.config.port), '--no-tls']);

  /** A registry access token for the test registry, from its token endpoint as the admin user. */
  async function registryToken(): Promise<string> {
    const basic = Buffer.from(`${s.credentials.username}:${s.credentials.password}`).toString('base64');
    const r = await fetch(`${s.registryUrl}/oauth2/token?service=${s.registry.loginServer}&scope=repository:app:pull`, { headers: { authorization: `Basic ${basic}` } });
    assert.equal(r.status, 200);
    return ((await r.json()) as { access_token: string }).access_token;
  }

  const tagsWith = (token: string) => fetch(`${s.registryUrl}/v2/app/tags/list`, { headers: { authorization: `Bearer ${token}` } });

  before(async () => { s = await startTestServer({ anonymousPull: false }); });
  after(async () => { await s.close(); });

  it('rotates both planes\' keys from another process: new tokens carry the new kid, earlier ones still verify', async () => {
    const before = await registryToken();
    const rotated = await cli('keys', 'rotate');
    assert.equal(rotated.code, 0, rotated.stderr);
    const [, identityKid, registryKid] = /signed with (\S+), registry tokens with (\S+);/.exec(rotated.stdout) ?? [];
    assert.ok(identityKid && registryKid, rotated.stdout);
    const after = await registryToken();
    assert.equal(decodeProtectedHeader(after).kid, registryKid);
    assert.notEqual(decodeProtectedHeader(before).kid, registryKid);
    assert.equal((await tagsWith(before)).status, 404, 'a token signed before the rotation still verifies (the repository is unknown)');
    const jwks = await (await fetch(`${s.config.publicUrl}/adfs/discovery/keys`)).json() as { keys: Array<{ kid: string }> };
    assert.ok(jwks.keys.some((k) => k.kid === identityKid), 'the identity plane publishes the new key at once');
    const listed = await cli('keys', 'list');
    assert.match(listed.stdout, new RegExp(`^registry\\t${registryKid}\\tsigning$`, 'm'));
    assert.match(listed.stdout, new RegExp(`^registry\\t${decodeProtectedHeader(before).kid}\\tretired `, 'm'));
  });

  it('removes a key: tokens it signed stop verifying at once; an unknown kid is a one-line error', async () => {
    const token = await registryToken();
    const kid = decodeProtectedHeader(token).kid!;
    const removed = await cli('keys', 'remove', kid);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, new RegExp(`removed registry key ${kid}`));
    assert.equal((await tagsWith(token)).status, 401);
    assert.equal((await tagsWith(await registryToken())).status, 404, 'a new key signs from now on');
    const unknown = await cli('keys', 'remove', 'nope');
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim().split('\n').length, 1);
    assert.match(unknown.stderr, /no signing key nope/);
    const dashed = await cli('keys', 'remove', '-q3nope');
    assert.equal(dashed.code, 1);
    assert.match(dashed.stderr, /^anchorage: no signing key -q3nope;/, 'a kid may begin with a dash: it is still read as the kid');
    const afterOption = await cli('keys', 'remove', '--log-level', 'error', '-q3nope');
    assert.match(afterOption.stderr, /^anchorage: no signing key -q3nope;/, 'after an option and its value too');
  });
});
