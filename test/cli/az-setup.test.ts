import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BootstrapInfo } from '../../src/server/bootstrap.js';
import { runCli } from '../helpers/cli.js';

const PYTHON = '/usr/bin/python3';

/** az-setup on its own; test/seed runs its commands with the real az. */
describe('anchorage az-setup', () => {
  let dataDir: string;
  const info = (caCertPath: string | null, password = 'secret~with.dots'): BootstrapInfo => ({
    tenantId: '11111111-1111-1111-1111-111111111111', subscriptionId: '22222222-2222-2222-2222-222222222222',
    authority: 'https://localhost:9443/11111111-1111-1111-1111-111111111111', armEndpoint: 'https://localhost:9443/', graphEndpoint: 'https://localhost:9443/',
    caCertPath, admin: { appId: '33333333-3333-3333-3333-333333333333', password },
    demo: { resourceGroup: 'myResourceGroup', registry: 'mycontainerregistry', loginServer: 'localhost:9444', cluster: 'myAKSCluster' },
  });
  const writeBootstrap = (value: BootstrapInfo): void => writeFileSync(join(dataDir, 'bootstrap.json'), JSON.stringify(value));

  beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'anchorage-cli-az-setup-')); });
  afterEach(() => { rmSync(dataDir, { recursive: true, force: true }); });

  it('asks for a first start when there is no bootstrap.json, and writes nothing', async () => {
    const r = await runCli(['az-setup', '--data-dir', dataDir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bootstrap\.json does not exist yet: start the server once/);
    assert.deepEqual(readdirSync(dataDir), []);
  });

  it('writes the cloud config for the port it is given, the env file and the shim, and prints the three commands', async () => {
    writeBootstrap(info(join(dataDir, 'tls', 'ca.crt'), "it's"));
    const r = await runCli(['az-setup', '--data-dir', dataDir, '--port', '9443']);
    assert.equal(r.code, 0, r.stderr);
    const az = join(dataDir, 'az');
    assert.deepEqual(JSON.parse(readFileSync(join(az, 'cloud.json'), 'utf8')), {
      endpoints: {
        resourceManager: 'https://localhost:9443/', activeDirectory: 'https://localhost:9443/adfs',
        activeDirectoryResourceId: 'https://management.core.windows.net/', activeDirectoryGraphResourceId: 'https://localhost:9443/',
        microsoftGraphResourceId: 'https://localhost:9443/', gallery: 'https://localhost:9443/',
      },
      suffixes: { acrLoginServerEndpoint: '.localhost' },
    });
    const exports = readFileSync(join(az, 'env'), 'utf8').split('\n').filter((l) => l.startsWith('export '));
    assert.deepEqual(exports, [
      `export REQUESTS_CA_BUNDLE=${join(dataDir, 'tls', 'ca.crt')}`,
      `export AZURE_CONFIG_DIR=${join(az, 'config')}`,
      `export PYTHONPATH=${join(az, 'python')}\${PYTHONPATH:+:$PYTHONPATH}`,
      'export AKS_RESOURCE_GROUP=myResourceGroup', 'export AKS_CLUSTER_NAME=myAKSCluster',
      'export ACR_NAME=mycontainerregistry', 'export ACR_RESOURCE_GROUP=myResourceGroup',
    ]);
    assert.ok(existsSync(join(az, 'python', 'sitecustomize.py')));
    assert.deepEqual(r.stdout.split('\n').filter((l) => l && !l.startsWith('#')), [
      `source ${join(az, 'env')}`,
      `az cloud register -n Anchorage --cloud-config @${join(az, 'cloud.json')} && az cloud set -n Anchorage`,
      // A password with a quote survives the shell.
      `az login --service-principal -u 33333333-3333-3333-3333-333333333333 -p 'it'\\''s' --tenant 11111111-1111-1111-1111-111111111111`,
    ]);
    assert.doesNotMatch(r.stdout, /bootstrap\.json was written for/);
  });

  it('without TLS there is no CA to trust; a port other than bootstrap.json\'s is pointed out', async () => {
    writeBootstrap(info(null));
    const r = await runCli(['az-setup', '--data-dir', dataDir, '--port', '9555']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(readFileSync(join(dataDir, 'az', 'env'), 'utf8'), /REQUESTS_CA_BUNDLE/);
    assert.match(r.stdout, /# note: bootstrap\.json was written for https:\/\/localhost:9443\/; these files name https:\/\/localhost:9555\//);
  });

  it('the shim runs the sitecustomize it shadows, so Debian\'s own hook still runs', async () => {
    writeBootstrap(info(null));
    assert.equal((await runCli(['az-setup', '--data-dir', dataDir])).code, 0);
    const other = join(dataDir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'sitecustomize.py'), 'import sys\nsys.shadowed_ran = True\n');
    const out = execFileSync(PYTHON, ['-c', 'import sys, sitecustomize; print(getattr(sys, "shadowed_ran", False), type(sys.meta_path[0]).__name__)'], {
      env: { PATH: process.env['PATH'], PYTHONPATH: `${join(dataDir, 'az', 'python')}:${other}`, PYTHONDONTWRITEBYTECODE: '1' },
    }).toString();
    assert.equal(out, 'True _CompatibilityFinder\n');
  });
});
