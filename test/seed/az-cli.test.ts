import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROLE_IDS } from '../../src/rbac/builtin-roles.js';
import { buildImageLayout } from '../helpers/oci-image.js';
import { CREATE_PULL_SECRET_PRINCIPAL, GRANT_AKS_ACCESS } from './seed-scripts.js';
import { printVars, startSeedEnvironment, type SeedEnvironment, type ShellResult } from './environment.js';
import { INVALID_SECRET, OK, tokenRequest } from './tokens.js';

/** A copy of ../shared/seed/aks-acr-authentication.txt, the document Anchorage implements, so a clean clone can check against it. */
const SEED_FILE = new URL('../../../test/seed/fixtures/aks-acr-authentication.txt', import.meta.url);
const SERVICE_PRINCIPAL_NAME = 'acr-service-principal';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The seed's scripts with the real Azure CLI (Debian's azure-cli 2.45), run verbatim in bash against a TLS server
 * after `anchorage az-setup`'s three commands, then the az commands people run next. Each test names the server's
 * truth (its services, in this process) and compares what az printed with it.
 */
describe('the seed with the real Azure CLI: az-setup, both scripts verbatim, and the commands that follow', () => {
  let env: SeedEnvironment;
  let registryId: string;
  const timings: string[] = [];
  const shell = async (label: string, script: string, options?: Parameters<SeedEnvironment['shell']>[1]): Promise<ShellResult> => {
    const r = await env.shell(script, options);
    timings.push(`${label}: ${r.ms} ms`);
    return r;
  };
  const assignmentsAtRegistry = async (principalId: string) =>
    (await env.app.rbac.listAssignments({ scope: registryId, mode: 'atScope', principalId })).map((a) => a.roleDefinitionName);

  before(async () => {
    env = await startSeedEnvironment();
    registryId = env.app.arm.registries.resourceIdOf(env.info.demo.registry)!;
    timings.push(`az-setup's three commands: ${env.setupRun.ms} ms`);
  });
  after(async () => {
    console.log(`az timings: ${timings.join('; ')}`);
    await env?.close();
  });

  it('az-setup writes only under DATA/az and prints three commands that log az in as the administrator', () => {
    const commands = env.azSetupOutput.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    assert.equal(commands.length, 3, env.azSetupOutput);
    assert.equal(commands[0], `source ${join(env.dataDir, 'az', 'env')}`);
    assert.equal(commands[1], `az cloud register -n Anchorage --cloud-config @${join(env.dataDir, 'az', 'cloud.json')} && az cloud set -n Anchorage`);
    assert.match(commands[2]!, new RegExp(`^az login --service-principal -u ${env.info.admin.appId} -p \\S+ --tenant ${env.info.tenantId}$`));
    assert.deepEqual(readdirSync(join(env.dataDir, 'az')).sort(), ['cloud.json', 'config', 'env', 'python']);
    assert.deepEqual(readdirSync(join(env.dataDir, 'az', 'python')).filter((f) => f !== '__pycache__'), ['sitecustomize.py']);

    // az login printed the subscription of bootstrap.json, in the Anchorage cloud, for the administrator.
    const accounts = JSON.parse(env.setupRun.stdout) as Array<Record<string, any>>;
    assert.equal(accounts.length, 1, env.setupRun.stdout);
    assert.equal(accounts[0]!['id'], env.info.subscriptionId);
    assert.equal(accounts[0]!['tenantId'], env.info.tenantId);
    assert.equal(accounts[0]!['cloudName'], 'Anchorage');
    assert.deepEqual(accounts[0]!['user'], { name: env.info.admin.appId, type: 'servicePrincipal' });
    // az kept its files in the data folder: nothing in the shell's home.
    assert.ok(existsSync(join(env.dataDir, 'az', 'config', 'azureProfile.json')));
    assert.deepEqual(readdirSync(env.home), []);
  });

  it('the env file sets the seed\'s variables to the demo environment of bootstrap.json', async () => {
    const r = await shell('variables', printVars('AKS_RESOURCE_GROUP', 'AKS_CLUSTER_NAME', 'ACR_NAME', 'ACR_RESOURCE_GROUP'));
    assert.deepEqual(r.vars, {
      AKS_RESOURCE_GROUP: env.info.demo.resourceGroup, AKS_CLUSTER_NAME: env.info.demo.cluster,
      ACR_NAME: env.info.demo.registry, ACR_RESOURCE_GROUP: env.info.demo.resourceGroup,
    });
  });

  it('the seed\'s scripts are its own lines, character for character', () => {
    const seed = readFileSync(SEED_FILE, 'utf8');
    assert.ok(seed.includes(GRANT_AKS_ACCESS));
    assert.ok(seed.includes(CREATE_PULL_SECRET_PRINCIPAL));
  });

  it('"Grant AKS access to ACR" runs verbatim: the cluster\'s appId, the registry\'s id, an AcrPull assignment; running it again is harmless', async () => {
    const cluster = env.app.arm.clusters.get(env.info.subscriptionId, env.info.demo.resourceGroup, env.info.demo.cluster);
    const sp = cluster.record.state.servicePrincipal!;
    const first = await shell('grant script', `${GRANT_AKS_ACCESS}\n${printVars('CLIENT_ID', 'ACR_ID')}`);
    assert.equal(first.vars['CLIENT_ID'], sp.clientId, 'az aks show --query servicePrincipalProfile.clientId prints the cluster\'s appId');
    assert.equal(first.vars['ACR_ID'], registryId, 'az acr show --query id prints the registry\'s resource id');
    const created = JSON.parse(first.stdout.slice(0, first.stdout.indexOf('\n@@'))) as Record<string, string>;
    assert.equal(created['principalId'], sp.objectId);
    assert.equal(created['principalType'], 'ServicePrincipal');
    assert.equal(created['scope'], registryId);
    assert.equal(created['roleDefinitionId'], `/subscriptions/${env.info.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_IDS.acrPull}`);
    assert.deepEqual(await assignmentsAtRegistry(sp.objectId), [ROLE_IDS.acrPull]);

    const again = await shell('grant script again', GRANT_AKS_ACCESS);
    assert.equal((JSON.parse(again.stdout) as Record<string, string>)['name'], created['name'], 'the second run answers with the existing assignment');
    assert.deepEqual(await assignmentsAtRegistry(sp.objectId), [ROLE_IDS.acrPull], 'still one assignment');
  });

  it('"Access with Kubernetes secret" runs verbatim: login server, registry id, a working password, the appId; running create-for-rbac again rotates the password', async () => {
    const r = await shell('pull-secret principal script', `SERVICE_PRINCIPAL_NAME=${SERVICE_PRINCIPAL_NAME}\n${CREATE_PULL_SECRET_PRINCIPAL}\n${printVars('ACR_LOGIN_SERVER', 'ACR_REGISTRY_ID', 'SP_PASSWD', 'CLIENT_ID')}`);
    const { ACR_LOGIN_SERVER, ACR_REGISTRY_ID, SP_PASSWD, CLIENT_ID } = r.vars as Record<string, string>;
    assert.equal(ACR_LOGIN_SERVER, env.info.demo.loginServer);
    assert.equal(ACR_REGISTRY_ID, registryId);
    assert.match(CLIENT_ID!, GUID);
    assert.ok(SP_PASSWD && SP_PASSWD.length >= 32, r.stdout);
    assert.ok(r.stdout.startsWith(`Service principal ID: ${CLIENT_ID}\nService principal password: ${SP_PASSWD}\n`), r.stdout);

    const principal = await env.app.identity.principalByAppId(CLIENT_ID!);
    assert.ok(principal, 'the appId az printed is a principal of the directory');
    const sp = await env.app.identity.directory(env.info.tenantId).servicePrincipal(principal.objectId);
    assert.equal(sp?.displayName, `http://${SERVICE_PRINCIPAL_NAME}`);
    assert.deepEqual(await assignmentsAtRegistry(principal.objectId), [ROLE_IDS.acrPull]);
    assert.deepEqual(await tokenRequest(env, CLIENT_ID!, SP_PASSWD!), OK, 'the password az printed gets a token');

    // The seed's create-for-rbac line again (the usual cause of "401 after re-running the script"): a new password, the old one revoked.
    const rotated = await shell('create-for-rbac again', `SERVICE_PRINCIPAL_NAME=${SERVICE_PRINCIPAL_NAME}\nACR_REGISTRY_ID=${registryId}\n${CREATE_PULL_SECRET_PRINCIPAL.split('\n').find((l) => l.startsWith('SP_PASSWD='))}\n${printVars('SP_PASSWD')}`);
    const newPassword = rotated.vars['SP_PASSWD']!;
    assert.notEqual(newPassword, SP_PASSWD);
    assert.deepEqual(await tokenRequest(env, CLIENT_ID!, newPassword), OK);
    assert.deepEqual(await tokenRequest(env, CLIENT_ID!, SP_PASSWD!), INVALID_SECRET, 'the first password no longer works');
    assert.deepEqual(await assignmentsAtRegistry(principal.objectId), [ROLE_IDS.acrPull], 'still one assignment');
  });

  it('az role assignment list and delete, az ad sp credential reset, az ad sp delete', async () => {
    const cluster = env.app.arm.clusters.get(env.info.subscriptionId, env.info.demo.resourceGroup, env.info.demo.cluster);
    const principal = (await env.app.identity.directory(env.info.tenantId).listServicePrincipals({ filter: { displayName: `http://${SERVICE_PRINCIPAL_NAME}` }, top: 2 })).items[0]!;
    const list = await shell('role assignment list', [
      `ACR_ID=$(az acr show --name $ACR_NAME --query id --output tsv)`,
      `echo "@@AT_SCOPE=$(az role assignment list --scope $ACR_ID --query "[].[principalId, roleDefinitionName]" --output tsv | sort | tr '\\t\\n' ':,')"`,
      `echo "@@ASSIGNEE=$(az role assignment list --assignee http://${SERVICE_PRINCIPAL_NAME} --all --query "[].[scope, roleDefinitionName]" --output tsv | tr '\\t' ':')"`,
    ].join('\n'));
    const expected = [`${cluster.record.state.servicePrincipal!.objectId}:AcrPull`, `${principal.id}:AcrPull`].sort();
    assert.equal(list.vars['AT_SCOPE'], `${expected.join(',')},`);
    assert.equal(list.vars['ASSIGNEE'], `${registryId}:AcrPull`);

    // az 2.45's `ad sp credential reset` works on the service principal's own passwords (addPassword and removePassword
    // on /servicePrincipals), as on Azure: each reset revokes the one before; the application's password stays.
    const reset = await shell('ad sp credential reset (twice)', [
      `echo "@@FIRST=$(az ad sp credential reset --id http://${SERVICE_PRINCIPAL_NAME} --query password --output tsv)"`,
      `az ad sp credential reset --id http://${SERVICE_PRINCIPAL_NAME} --output json`,
    ].join('\n'));
    const second = JSON.parse(reset.stdout.slice(reset.stdout.indexOf('{'))) as Record<string, string>;
    assert.equal(second['appId'], principal.appId);
    assert.equal(second['tenant'], env.info.tenantId);
    assert.deepEqual(await tokenRequest(env, principal.appId, second['password']!), OK, 'the new password works');
    assert.deepEqual(await tokenRequest(env, principal.appId, reset.vars['FIRST']!), INVALID_SECRET, 'the password of the previous reset does not');

    const deleted = await shell('role assignment delete', [
      `ACR_ID=$(az acr show --name $ACR_NAME --query id --output tsv)`,
      `az role assignment delete --assignee http://${SERVICE_PRINCIPAL_NAME} --role acrpull --scope $ACR_ID`,
      `echo "@@LEFT=$(az role assignment list --scope $ACR_ID --query "[].principalId" --output tsv | tr '\\n' ',')"`,
    ].join('\n'));
    assert.equal(deleted.vars['LEFT'], `${cluster.record.state.servicePrincipal!.objectId},`);
    assert.deepEqual(await assignmentsAtRegistry(principal.id), []);

    const spDeleted = await shell('ad sp delete', [
      `az ad sp delete --id http://${SERVICE_PRINCIPAL_NAME}`,
      `az ad sp show --id http://${SERVICE_PRINCIPAL_NAME} --query appId --output tsv && exit 1`,
      `echo "@@SHOW=$?"`,
    ].join('\n'), { allowFailure: true });
    assert.match(spDeleted.stderr, new RegExp(`ERROR: Service principal 'http://${SERVICE_PRINCIPAL_NAME}' doesn't exist`), spDeleted.stderr);
    assert.equal(await env.app.identity.directory(env.info.tenantId).servicePrincipal(principal.id), undefined);
    assert.deepEqual(await tokenRequest(env, principal.appId, second['password']!), { status: 400, error: 'unauthorized_client AADSTS7000229' }, 'no service principal, no token (the application is left, as az ad sp delete leaves it)');
  });

  it('az aks create with a kubelet identity, then az aks update --attach-acr and --detach-acr, for it and for the seed\'s service-principal cluster', async () => {
    const name = 'myKubeletCluster';
    const created = await shell('aks create (managed identity)', `az aks create --resource-group $AKS_RESOURCE_GROUP --name ${name} --enable-managed-identity --no-ssh-key --node-count 1 --query "identityProfile.kubeletidentity.objectId" --output tsv`);
    const kubelet = env.app.arm.clusters.get(env.info.subscriptionId, env.info.demo.resourceGroup, name).record.state.kubelet!;
    assert.equal(created.stdout.trim(), kubelet.objectId);

    const attached = await shell('aks update --attach-acr', `az aks update --resource-group $AKS_RESOURCE_GROUP --name ${name} --attach-acr $ACR_NAME --query provisioningState --output tsv`);
    assert.equal(attached.stdout.trim(), 'Succeeded');
    assert.deepEqual(await assignmentsAtRegistry(kubelet.objectId), [ROLE_IDS.acrPull]);
    // az's retry loop (ten tries, 2 to 20 s apart) did not run: it stopped at the 409 "already exists" of its second attach.
    assert.ok(attached.ms < 60_000, `attach took ${attached.ms} ms`);

    const detached = await shell('aks update --detach-acr', `az aks update --resource-group $AKS_RESOURCE_GROUP --name ${name} --detach-acr $ACR_NAME --query provisioningState --output tsv`);
    assert.equal(detached.stdout.trim(), 'Succeeded');
    assert.deepEqual(await assignmentsAtRegistry(kubelet.objectId), []);

    // The seed's own cluster, with a service principal (made by the first start, not by az): --detach-acr removes the
    // AcrPull the seed's script gave it, --attach-acr gives it back through Graph's appId lookup.
    const sp = env.app.arm.clusters.get(env.info.subscriptionId, env.info.demo.resourceGroup, env.info.demo.cluster).record.state.servicePrincipal!;
    await shell('aks update --detach-acr (service principal)', 'az aks update --resource-group $AKS_RESOURCE_GROUP --name $AKS_CLUSTER_NAME --detach-acr $ACR_NAME --output none');
    assert.deepEqual(await assignmentsAtRegistry(sp.objectId), []);
    await shell('aks update --attach-acr (service principal)', 'az aks update --resource-group $AKS_RESOURCE_GROUP --name $AKS_CLUSTER_NAME --attach-acr $ACR_NAME --output none');
    assert.deepEqual(await assignmentsAtRegistry(sp.objectId), [ROLE_IDS.acrPull]);
  });
  it('az acr login --expose-token, then az acr repository list, show-tags, show-manifests and delete', async () => {
    const v1 = await buildImageLayout({ tag: 'v1' });
    const v2 = await buildImageLayout({ tag: 'v2', layers: [{ 'v2.txt': 'version 2\n' }] });
    try {
      await env.push(v1, 'hello');
      await env.push(v2, 'hello');
      await env.push(v1, 'scratch');
    } finally {
      await v1.remove();
      await v2.remove();
    }
    const login = await shell('acr login --expose-token', 'az acr login --name $ACR_NAME --expose-token --output json');
    const exposed = JSON.parse(login.stdout) as { accessToken: string; loginServer: string };
    assert.equal(exposed.loginServer, env.info.demo.loginServer);
    const claims = JSON.parse(Buffer.from(exposed.accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { aud: string; exp: number; grant_type: string };
    assert.equal(claims.aud, env.info.demo.loginServer);
    assert.equal(claims.grant_type, 'refresh_token', '--expose-token prints a registry refresh token');
    assert.ok(claims.exp * 1000 > Date.now() + 2.5 * 3600_000, 'valid for about three hours');
    assert.match(login.stderr, /docker login loginServer -u 00000000-0000-0000-0000-000000000000 -p accessToken/);

    const r = await shell('acr repository list/show-tags/show-manifests/delete', String.raw`
words() { tr '\t\n' ', ' ; }
echo "@@REPOSITORIES=$(az acr repository list --name $ACR_NAME --output tsv | words)"
echo "@@TAGS=$(az acr repository show-tags --name $ACR_NAME --repository hello --output tsv | words)"
echo "@@MANIFESTS=$(az acr repository show-manifests --name $ACR_NAME --repository hello --query "[].[tags[0], digest]" --output tsv 2>/dev/null | sort | words)"
az acr repository delete --name $ACR_NAME --image hello:v2 --yes
echo "@@TAGS_AFTER=$(az acr repository show-tags --name $ACR_NAME --repository hello --output tsv | words)"
az acr repository delete --name $ACR_NAME --repository scratch --yes --output json > deleted.json
echo "@@REPOSITORIES_AFTER=$(az acr repository list --name $ACR_NAME --output tsv | words)"`);
    assert.equal(r.vars['REPOSITORIES'], 'hello scratch ');
    assert.equal(r.vars['TAGS'], 'v1 v2 ');
    assert.equal(r.vars['MANIFESTS'], `v1,${v1.top.digest} v2,${v2.top.digest} `);
    assert.match(r.stderr, new RegExp(`delete the manifest '${v2.top.digest}' and all the following images: 'hello:v2'`));
    assert.equal(r.vars['TAGS_AFTER'], 'v1 ');
    const deleted = JSON.parse(readFileSync(join(env.home, 'deleted.json'), 'utf8')) as { manifestsDeleted: string[]; tagsDeleted: string[] };
    assert.deepEqual(deleted, { manifestsDeleted: [v1.top.digest], tagsDeleted: ['v1'] });
    assert.equal(r.vars['REPOSITORIES_AFTER'], 'hello ');
  });

  it('az acr update --admin-enabled true, az acr credential show and renew, az acr scope-map create and az acr token create', async () => {
    const image = await buildImageLayout({ tag: 'v1', layers: [{ 'team.txt': 'team app\n' }] });
    try {
      await env.push(image, 'team/app');
      await env.push(image, 'other/app');
    } finally {
      await image.remove();
    }
    const r = await shell('acr admin user, credentials, scope map, token', [
      'echo "@@ADMIN=$(az acr update --name $ACR_NAME --admin-enabled true --query adminUserEnabled --output tsv)"',
      'az acr credential show --name $ACR_NAME --output json > credentials.json',
      'az acr credential renew --name $ACR_NAME --password-name password2 --output json > renewed.json',
      'az acr scope-map create --name teampull --registry $ACR_NAME --repository team/app content/read metadata/read --description "pull team/app" --output json > scope-map.json',
      'az acr token create --name teampuller --registry $ACR_NAME --scope-map teampull --output json > token.json',
    ].join('\n'));
    const read = (f: string) => JSON.parse(readFileSync(join(env.home, f), 'utf8')) as any;
    assert.equal(r.vars['ADMIN'], 'true');
    const credentials = read('credentials.json') as { username: string; passwords: Array<{ name: string; value: string }> };
    const renewed = read('renewed.json') as typeof credentials;
    assert.equal(credentials.username, env.info.demo.registry);
    assert.deepEqual(credentials.passwords.map((p) => p.name), ['password', 'password2']);
    assert.equal(renewed.passwords[0]!.value, credentials.passwords[0]!.value, 'renewing password2 leaves password');
    assert.notEqual(renewed.passwords[1]!.value, credentials.passwords[1]!.value);
    const scopeMap = read('scope-map.json');
    assert.deepEqual(scopeMap.actions, ['repositories/team/app/content/read', 'repositories/team/app/metadata/read']);
    const token = read('token.json');
    assert.equal(token.scopeMapId, scopeMap.id);
    assert.equal(token.status, 'enabled');
    const tokenPassword = (token.credentials.passwords as Array<{ name: string; value: string }>)[0]!;

    // What each credential may do at the registry, asked with skopeo.
    const inspect = (user: string, password: string, repository: string) =>
      env.skopeo('inspect', '--creds', `${user}:${password}`, '--cert-dir', env.certDir, `docker://${env.info.demo.loginServer}/${repository}:v1`);
    await inspect(env.info.demo.registry, renewed.passwords[0]!.value, 'team/app');
    await inspect(env.info.demo.registry, renewed.passwords[1]!.value, 'team/app');
    await assert.rejects(inspect(env.info.demo.registry, credentials.passwords[1]!.value, 'team/app'), /unauthorized|authentication required/i, 'the renewed password\'s old value');
    await inspect('teampuller', tokenPassword.value, 'team/app');
    await assert.rejects(inspect('teampuller', tokenPassword.value, 'other/app'), /unauthorized|authentication required|denied/i, 'the token is limited to its scope map');
  });
});
