import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/server.js';

/** A failure as people should see it: one line on stderr naming the problem, no stack, nothing on stdout, exit 1. */
function assertCleanFailure(r: CliResult, message: RegExp): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, not:\n${r.stderr}`);
  assert.match(lines[0]!, /^anchorage: /);
  assert.match(lines[0]!, message);
}

describe('anchorage registry', () => {
  let dataDir: string;
  let common: string[];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'anchorage-cli-registry-'));
    common = ['--data-dir', dataDir, '--port', String(await freePort())];
  });

  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, ...common]);

  it('list on an empty data folder says there are none', async () => {
    const r = await cli('registry', 'list');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no registries\n');
  });

  it('create prints the name and login server, each registry on a port of its own', async () => {
    const a = await cli('registry', 'create', 'firstregistry');
    assert.equal(a.code, 0, a.stderr);
    const ma = /^created registry firstregistry, login server (localhost:(\d+))\n$/.exec(a.stdout);
    assert.ok(ma, a.stdout);
    const b = await cli('registry', 'create', 'SecondRegistry', '--anonymous-pull', 'true');
    assert.equal(b.code, 0, b.stderr);
    const mb = /^created registry secondregistry, login server (localhost:(\d+))\n$/.exec(b.stdout);
    assert.ok(mb, `names are case-insensitive and kept in lower case: ${b.stdout}`);
    assert.notEqual(ma[2], mb[2]);

    const list = await cli('registry', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, `firstregistry\t${ma[1]}\nsecondregistry\t${mb[1]}\tanonymous pull\n`);
  });

  it('update changes the settings and prints the registry', async () => {
    const r = await cli('registry', 'update', 'FirstRegistry', '--gc-untagged', 'true', '--anonymous-pull', 'true');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^firstregistry\tlocalhost:\d+\tanonymous pull, gc removes untagged manifests\n$/);
    const off = await cli('registry', 'update', 'firstregistry', '--anonymous-pull', 'false');
    assert.match(off.stdout, /^firstregistry\tlocalhost:\d+\tgc removes untagged manifests\n$/);
    const list = await cli('registry', 'list');
    assert.match(list.stdout, /^firstregistry\tlocalhost:\d+\tgc removes untagged manifests$/m);
  });

  it('delete removes the registry and says how to free its storage', async () => {
    const r = await cli('registry', 'delete', 'SECONDREGISTRY');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^deleted registry secondregistry; run `anchorage gc` to free its storage\n$/i);
    const list = await cli('registry', 'list');
    assert.doesNotMatch(list.stdout, /secondregistry/);
    assert.match(list.stdout, /^firstregistry\t/);
  });

  it('refuses bad names with a one-line error and exit code 1', async () => {
    for (const bad of ['abcd', 'has_underscore', 'has-dash', 'a'.repeat(51), 'dots.in.name', 'ünïcode1']) {
      assertCleanFailure(await cli('registry', 'create', bad), /invalid registry name .*5 to 50 letters and digits/);
    }
    const list = await cli('registry', 'list');
    assert.equal(list.stdout.trimEnd().split('\n').length, 1, 'nothing was created');
  });

  it('accepts the shortest and the longest valid names', async () => {
    for (const good of ['abcde', 'a'.repeat(50)]) {
      const r = await cli('registry', 'create', good);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await cli('registry', 'delete', good)).code, 0);
    }
  });

  it('refuses a name that exists, an unknown registry, a missing name, a bad value and an unknown action', async () => {
    assertCleanFailure(await cli('registry', 'create', 'firstregistry'), /registry firstregistry already exists/);
    assertCleanFailure(await cli('registry', 'create', 'FIRSTREGISTRY'), /already exists/);
    assertCleanFailure(await cli('registry', 'delete', 'nosuchregistry'), /registry nosuchregistry does not exist/);
    assertCleanFailure(await cli('registry', 'update', 'nosuchregistry', '--gc-untagged', 'true'), /does not exist/);
    assertCleanFailure(await cli('registry', 'create'), /usage: anchorage registry create NAME/);
    assertCleanFailure(await cli('registry', 'delete'), /usage: anchorage registry delete NAME/);
    assertCleanFailure(await cli('registry', 'update', 'firstregistry', '--gc-untagged', 'yes'), /expected true or false, not "yes"/);
    assertCleanFailure(await cli('registry', 'rename', 'firstregistry'), /unknown registry action "rename"/);
    assertCleanFailure(await cli('registry', 'create', 'okayname1', '--no-such-flag'), /no-such-flag/);
    assertCleanFailure(await runCli(['registry', 'list', '--data-dir', dataDir, '--port', 'eighty']), /invalid port "eighty"/);
    for (const port of ['0', '1e3', '0x50', '']) assertCleanFailure(await runCli(['registry', 'list', '--data-dir', dataDir, '--port', port]), /invalid port/);
    assertCleanFailure(await runCli(['registry', 'list', '--data-dir', `${dataDir}-absent`]), /there is no data folder at .*-absent/);
    assertCleanFailure(await runCli(['registry', 'list', '--data-dir', '']), /empty path/);
    assertCleanFailure(await cli('registry', 'create', 'okayname2', 'extra'), /unexpected argument "extra" after `registry create okayname2`/);
    assertCleanFailure(await cli('gc', 'now'), /unexpected argument "now" after `gc`/);
  });
});
