import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run, writeText } from '../helpers/client-tools.js';
import { runCli } from '../helpers/cli.js';
import { buildImageLayout, type ImageLayout } from '../helpers/oci-image.js';
import { startContainerdCri, type CriAuth, type CriRuntime } from '../kube/cri/containerd-cri.js';
import { CREATE_PULL_SECRET_PRINCIPAL, GRANT_AKS_ACCESS, KUBECTL_CREATE_SECRET } from './seed-scripts.js';
import { printVars, startSeedEnvironment, type SeedEnvironment } from './environment.js';

const NULL_GUID = '00000000-0000-0000-0000-000000000000';
const SERVICE_PRINCIPAL_NAME = 'acr-pull-secret';
const PROVIDER = fileURLToPath(new URL('../../src/cli/credential-provider.js', import.meta.url));
const REPOSITORY = 'hello';
/** What a refused pull looks like from containerd: the token endpoint's or the registry's 401. */
const CRI_401 = /401 Unauthorized|unexpected status: 401/;

/**
 * The credentials the seed's flows end with, used by the runtimes a cluster uses: the Secret kubectl makes from
 * script 2's service principal, read by skopeo and podman (--authfile) and turned into the CRI AuthConfig a kubelet
 * builds from it; script 1's cluster identity through a node's credential provider, and `az acr login
 * --expose-token`'s refresh token, both as username 00000000-0000-0000-0000-000000000000 through CRI. Then what
 * must stop working does: a revoked role, a replaced secret, a push with AcrPull.
 */
describe('the seed\'s credentials pull through kubectl\'s Secret, skopeo, podman and containerd\'s CRI', () => {
  let env: SeedEnvironment;
  let image: ImageLayout;
  let host: string;
  let work: string;
  let certDir: string;
  let cri: CriRuntime;
  let podmanGlobal: string[];
  let podmanEnv: NodeJS.ProcessEnv;
  let podmanPolicy: string;
  /** Script 2's results, for the tests after the first. */
  let flow2: { appId: string; password: string; authFile: string };

  const ref = (): string => `${host}/${REPOSITORY}:${image.tag}`;
  const criPull = async (auth: CriAuth): Promise<string> => {
    const mark = env.logMark();
    try {
      return (await cri.pullImage(ref(), auth)).image_ref;
    } catch (err) {
      throw new Error([
        `CRI PullImage ${ref()} as ${auth.username}: ${(err as Error).message}`,
        `--- containerd log ---\n${cri.log()}`, `--- server log while it ran ---\n${env.logSince(mark)}`,
      ].join('\n'));
    }
  };
  const criRefusal = async (auth: CriAuth, because: string): Promise<void> => {
    const mark = env.logMark();
    await assert.rejects(cri.pullImage(ref(), auth), (err: Error) => CRI_401.test(err.message), because);
    assert.match(env.logSince(mark), /"status":401/, 'the registry or its token service answered 401');
  };
  const skopeo = (...args: string[]) => env.skopeo(...args);
  const podman = (...args: string[]) => run('podman', [...podmanGlobal, ...args], { env: podmanEnv });

  before(async () => {
    env = await startSeedEnvironment();
    host = env.info.demo.loginServer;
    work = env.work;
    certDir = env.certDir;
    const containersConf = await writeText(join(work, 'containers.conf'), [
      '[engine]', 'events_logger = "file"', `events_logfile_path = "${join(work, 'events.log')}"`, 'cgroup_manager = "cgroupfs"',
      '[network]', `network_config_dir = "${join(work, 'networks')}"`, '',
    ].join('\n'));
    const storageConf = await writeText(join(work, 'storage.conf'), ['[storage]', 'driver = "vfs"', `graphroot = "${join(work, 'root')}"`, `runroot = "${join(work, 'run')}"`, ''].join('\n'));
    const registriesConf = await writeText(join(work, 'registries.conf'), 'unqualified-search-registries = []\n');
    const policy = await writeText(join(work, 'podman-policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    podmanEnv = { HOME: env.home, CONTAINERS_CONF: containersConf, CONTAINERS_STORAGE_CONF: storageConf, CONTAINERS_REGISTRIES_CONF: registriesConf };
    podmanGlobal = ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', '--tmpdir', join(work, 'tmp')];
    podmanPolicy = policy;

    // The image the cluster pulls, pushed earlier by the administrator (Owner of the subscription) with skopeo.
    image = await buildImageLayout({ tag: 'v1' });
    await env.push(image, REPOSITORY);
    cri = await startContainerdCri(join(work, 'containerd'), [{ host, caPath: env.caPath }]);
  });

  after(async () => {
    await cri?.stop();
    await image?.remove();
    await env?.close();
  });

  it('script 2\'s service principal in kubectl\'s Secret: skopeo and podman pull with it as --authfile, CRI with the AuthConfig a kubelet makes of it', async () => {
    // The seed's kubectl line with its placeholders filled in from the script's variables, plus the dry run.
    const kubectl = `${KUBECTL_CREATE_SECRET
      .replace('<acr-login-server>', '$ACR_LOGIN_SERVER').replace('<service-principal-ID>', '$CLIENT_ID')
      .replace('<service-principal-password>', '$SP_PASSWD').replace('<email-address>', 'ops@example.com')} --dry-run=client -o json`;
    const r = await env.shell(`SERVICE_PRINCIPAL_NAME=${SERVICE_PRINCIPAL_NAME}\n${CREATE_PULL_SECRET_PRINCIPAL}\n${kubectl} > acr-auth.json\n${printVars('CLIENT_ID', 'SP_PASSWD')}`);
    const secret = JSON.parse(await readFile(join(env.home, 'acr-auth.json'), 'utf8')) as { type: string; metadata: { name: string }; data: Record<string, string> };
    assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
    assert.equal(secret.metadata.name, 'acr-auth');
    const dockerConfig = Buffer.from(secret.data['.dockerconfigjson']!, 'base64').toString('utf8');
    const { CLIENT_ID: appId, SP_PASSWD: password } = r.vars as { CLIENT_ID: string; SP_PASSWD: string };
    assert.deepEqual(JSON.parse(dockerConfig), {
      auths: { [host]: { username: appId, password, email: 'ops@example.com', auth: Buffer.from(`${appId}:${password}`).toString('base64') } },
    });
    const authFile = join(work, 'acr-auth.dockerconfigjson');
    await writeFile(authFile, dockerConfig);
    flow2 = { appId, password, authFile };

    await skopeo('copy', '--src-authfile', authFile, '--src-cert-dir', certDir, `docker://${ref()}`, `oci:${join(work, 'skopeo-pulled')}:${image.tag}`);
    const index = JSON.parse(await readFile(join(work, 'skopeo-pulled', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    assert.deepEqual(index.manifests.map((m) => m.digest), [image.top.digest], 'skopeo pulled the manifest that was pushed');

    await podman('pull', '--quiet', '--signature-policy', podmanPolicy, '--authfile', authFile, '--cert-dir', certDir, ref());
    const [inspected] = JSON.parse((await podman('image', 'inspect', ref())).stdout) as Array<{ Id: string; Digest: string }>;
    assert.equal(`sha256:${inspected!.Id}`, image.images[0]!.config.digest, 'podman pulled the image whose id is the pushed config digest');
    assert.equal(inspected!.Digest, image.top.digest);

    // The kubelet reads the Secret's entry for the image's host and passes its username and password to PullImage.
    assert.equal(await criPull({ username: appId, password }), image.images[0]!.config.digest);
  });

  it('a principal with AcrPull cannot push: skopeo\'s push with the same Secret is refused', async () => {
    const mark = env.logMark();
    await assert.rejects(
      skopeo('copy', '--dest-authfile', flow2.authFile, '--dest-cert-dir', certDir, `oci:${image.dir}:${image.tag}`, `docker://${host}/${REPOSITORY}:pushed-with-acrpull`),
      (err: Error) => /unauthorized|denied|authentication required/i.test(err.message),
    );
    assert.match(env.logSince(mark), /"method":"(POST|HEAD|PUT)","url":"\/v2\/hello\/(blobs|manifests)[^"]*","host":"[^"]+","status":401/, 'the registry answered the push with 401');
    const tags = await env.shell(`az acr repository show-tags --name $ACR_NAME --repository ${REPOSITORY} --output tsv`);
    assert.equal(tags.stdout, `${image.tag}\n`, 'nothing was tagged');
  });

  it('az ad sp credential reset: the reset\'s secret pulls, the one it replaced does not; running the seed\'s create-for-rbac again retires the old secret', async () => {
    const reset = await env.shell([
      `echo "@@FIRST=$(az ad sp credential reset --id http://${SERVICE_PRINCIPAL_NAME} --query password --output tsv)"`,
      `echo "@@SECOND=$(az ad sp credential reset --id http://${SERVICE_PRINCIPAL_NAME} --query password --output tsv)"`,
    ].join('\n'));
    assert.equal(await criPull({ username: flow2.appId, password: reset.vars['SECOND']! }), image.images[0]!.config.digest);
    await criRefusal({ username: flow2.appId, password: reset.vars['FIRST']! }, 'the secret the second reset replaced no longer pulls');

    const rotated = await env.shell(`SERVICE_PRINCIPAL_NAME=${SERVICE_PRINCIPAL_NAME}\nACR_REGISTRY_ID=$(az acr show --name $ACR_NAME --query id --output tsv)\n${CREATE_PULL_SECRET_PRINCIPAL.split('\n').find((l) => l.startsWith('SP_PASSWD='))}\n${printVars('SP_PASSWD')}`);
    await criRefusal({ username: flow2.appId, password: flow2.password }, 'the Secret\'s password, replaced by create-for-rbac, no longer pulls');
    flow2.password = rotated.vars['SP_PASSWD']!;
    assert.equal(await criPull({ username: flow2.appId, password: flow2.password }), image.images[0]!.config.digest);
  });

  it('az role assignment delete: the next pull with the same service principal is refused with 401', async () => {
    await env.shell(`ACR_ID=$(az acr show --name $ACR_NAME --query id --output tsv)\naz role assignment delete --assignee http://${SERVICE_PRINCIPAL_NAME} --role acrpull --scope $ACR_ID`);
    await criRefusal({ username: flow2.appId, password: flow2.password }, 'no AcrPull, no pull');
    const mark = env.logMark();
    await assert.rejects(skopeo('inspect', '--creds', `${flow2.appId}:${flow2.password}`, '--cert-dir', certDir, `docker://${ref()}`), /unauthorized|authentication required/i);
    assert.match(env.logSince(mark), /"status":401/);
  });

  it('script 1\'s cluster identity through a node\'s credential provider, and az acr login --expose-token, pull as 00000000-0000-0000-0000-000000000000; revoking AcrPull stops the cluster', async () => {
    await env.shell(GRANT_AKS_ACCESS);

    // The node's side: azure.json for the cluster, and the kubelet's exec plugin asked for the image's credentials.
    const nodeDir = join(work, 'node');
    const nodeConfig = await runCli(['kube', 'node-config', '--cluster', env.info.demo.cluster, '--resource-group', env.info.demo.resourceGroup,
      '--output-dir', nodeDir, '--data-dir', env.dataDir, '--port', String(env.config.port)]);
    assert.equal(nodeConfig.code, 0, nodeConfig.stderr);
    const response = JSON.parse(await credentialProvider(join(nodeDir, 'azure.json'), ref())) as { auth: Record<string, CriAuth> };
    const node = response.auth[host]!;
    assert.equal(node.username, NULL_GUID);
    assert.equal(await criPull(node), image.images[0]!.config.digest, 'the cluster identity pulls with its registry refresh token');

    const login = await env.shell('az acr login --name $ACR_NAME --expose-token --output json');
    const exposed = JSON.parse(login.stdout) as { accessToken: string; loginServer: string };
    assert.equal(exposed.loginServer, host);
    assert.equal(await criPull({ username: NULL_GUID, password: exposed.accessToken }), image.images[0]!.config.digest, 'az acr login --expose-token\'s token pulls');

    await env.shell([
      'CLIENT_ID=$(az aks show --resource-group $AKS_RESOURCE_GROUP --name $AKS_CLUSTER_NAME --query "servicePrincipalProfile.clientId" --output tsv)',
      'ACR_ID=$(az acr show --name $ACR_NAME --resource-group $ACR_RESOURCE_GROUP --query "id" --output tsv)',
      'az role assignment delete --assignee $CLIENT_ID --role acrpull --scope $ACR_ID',
    ].join('\n'));
    await criRefusal(node, 'the node\'s cached refresh token no longer pulls once AcrPull is gone');
  });
});

/** The kubelet's exec credential provider call: <bin-dir>/<name> with its args, a CredentialProviderRequest on stdin. */
function credentialProvider(azureJson: string, image: string): Promise<string> {
  chmodSync(PROVIDER, 0o755);
  return new Promise((resolve, reject) => {
    const child = execFile(PROVIDER, [azureJson], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`anchorage-credential-provider ${azureJson} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(JSON.stringify({ apiVersion: 'credentialprovider.kubelet.k8s.io/v1', kind: 'CredentialProviderRequest', image }));
  });
}
