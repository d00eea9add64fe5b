import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLOUD_NAME, cloudMetadata } from '../arm/cloud-metadata.js';
import type { Config } from '../config/config.js';
import { bootstrapPath, seedExports, type BootstrapInfo } from '../server/bootstrap.js';

/** What `az-setup` writes, all of it under `<data>/az`. */
export interface AzSetupFiles {
  dir: string;
  cloudConfig: string;
  env: string;
  shim: string;
  /** The AZURE_CONFIG_DIR the env file names: az's own files for this cloud, kept out of ~/.azure. */
  configDir: string;
}

export function azSetupFiles(dataDir: string): AzSetupFiles {
  const dir = join(dataDir, 'az');
  return { dir, cloudConfig: join(dir, 'cloud.json'), env: join(dir, 'env'), shim: join(dir, 'python', 'sitecustomize.py'), configDir: join(dir, 'config') };
}

/**
 * Writes what Debian's azure-cli 2.45 needs to talk to this server (a cloud config, an env file and a
 * compatibility shim, all under `<data>/az`) and prints the three commands that point a fresh shell's `az` at it:
 * source the env file, register and select the cloud, log in as the administrator of `bootstrap.json`.
 * Nothing outside the data folder is written; the env file gives az a config folder of its own.
 */
export function azSetup(config: Config): void {
  const file = bootstrapPath(config.dataDir);
  if (!existsSync(file)) throw new Error(`${file} does not exist yet: start the server once (anchorage serve --data-dir ${config.dataDir}) to create the environment`);
  const info = JSON.parse(readFileSync(file, 'utf8')) as BootstrapInfo;
  const files = azSetupFiles(config.dataDir);
  mkdirSync(join(files.dir, 'python'), { recursive: true });
  writeFileSync(files.cloudConfig, `${JSON.stringify(azCloudConfig(config), null, 2)}\n`);
  writeFileSync(files.shim, SHIM);
  writeFileSync(files.env, envFile(config, info, files));

  const lines = [
    `# wrote ${files.cloudConfig}, ${files.env} and ${files.shim}; nothing outside ${files.dir}`,
    `source ${shellQuote(files.env)}`,
    `az cloud register -n ${CLOUD_NAME} --cloud-config @${shellQuote(files.cloudConfig)} && az cloud set -n ${CLOUD_NAME}`,
    `az login --service-principal -u ${info.admin.appId} -p ${shellQuote(info.admin.password)} --tenant ${info.tenantId}`,
    `# az now keeps this cloud and login in ${files.configDir}, not ~/.azure; to use another folder, export AZURE_CONFIG_DIR after sourcing.`,
    `# Registered already (another port, say)? Run \`az cloud update\` with the same --cloud-config instead of register.`,
  ];
  if (info.armEndpoint !== `${config.publicUrl}/`) {
    lines.push(`# note: bootstrap.json was written for ${info.armEndpoint}; these files name ${config.publicUrl}/, so pass serve's --port or --public-url here too`);
  }
  console.log(lines.join('\n'));
}

/**
 * The `--cloud-config` for `az cloud register`, from the same values `/metadata/endpoints` serves. Every endpoint
 * az requires is given, so registering makes no request; microsoftGraphResourceId and the ACR suffix can only be
 * set this way in az 2.45 (it has no flag for the first and does not read it from the metadata endpoint).
 */
export function azCloudConfig(config: Config): unknown {
  const [cloud] = cloudMetadata('2019-05-01', { publicUrl: config.publicUrl, registryDomain: config.registryDomain }) as Array<{
    resourceManager: string; gallery: string; graphAudience: string; microsoftGraphResourceId: string;
    authentication: { loginEndpoint: string; audiences: string[] }; suffixes: { acrLoginServer: string };
  }>;
  return {
    endpoints: {
      resourceManager: cloud!.resourceManager,
      activeDirectory: cloud!.authentication.loginEndpoint,
      activeDirectoryResourceId: cloud!.authentication.audiences[0],
      activeDirectoryGraphResourceId: cloud!.graphAudience,
      microsoftGraphResourceId: cloud!.microsoftGraphResourceId,
      gallery: cloud!.gallery,
    },
    suffixes: { acrLoginServerEndpoint: cloud!.suffixes.acrLoginServer },
  };
}

function envFile(config: Config, info: BootstrapInfo, files: AzSetupFiles): string {
  const lines = [
    `# Written by \`anchorage az-setup\` for ${config.publicUrl}; source it in the shell that runs az.`,
  ];
  if (info.caCertPath) {
    lines.push(
      '# az (Python requests and MSAL) trusts Anchorage\'s local CA; in this shell it replaces the system bundle for Python programs.',
      `export REQUESTS_CA_BUNDLE=${shellQuote(info.caCertPath)}`,
    );
  }
  lines.push(
    '# az keeps the Anchorage cloud, its login and token cache here instead of ~/.azure; set another folder if you like.',
    `export AZURE_CONFIG_DIR=${shellQuote(files.configDir)}`,
    '# sitecustomize.py there works around Debian\'s azure-cli 2.45 crashing on `az role ...` and `--attach-acr` (Azure/azure-cli#24959); it changes nothing else.',
    `export PYTHONPATH=${shellQuote(join(files.dir, 'python'))}\${PYTHONPATH:+:\$PYTHONPATH}`,
    '# The seed\'s variables, set to the demo environment.',
    ...seedExports(info),
    '',
  );
  return lines.join('\n');
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./~-]+$/.test(text) && !text.startsWith('~') ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Debian 12 pairs azure-cli 2.45 with azure-mgmt-authorization 3.0.0 (azure-core), while azure-cli was written
 * against the msrest-era 0.61: its role and aks modules read `.config.subscription_id` on operation groups that
 * keep `_config`, pass `custom_headers=` where azure-core takes `headers=`, and compare an error's `.message` with
 * the bare service message. So `az role ...` and `az ad sp create-for-rbac --role` die in the client before
 * sending anything, and `az aks update --attach-acr` retries for two minutes and fails.
 */
const SHIM = `# Written by \`anchorage az-setup\`.
# Debian 12 ships azure-cli 2.45 with azure-mgmt-authorization 3.0.0, while azure-cli was written against the
# msrest-era 0.61. It reads \`.config\` on that library's operation groups, which only have \`._config\`, so every
# \`az role ...\` command and \`az ad sp create-for-rbac --role\` fail in the client with
#   AttributeError: 'RoleAssignmentsOperations' object has no attribute 'config'
# (Azure/azure-cli#24959, #26896, #22868, #20546). \`az aks update --attach-acr\` passes \`custom_headers=\`, which
# azure-core rejects ("Session.request() got an unexpected keyword argument 'custom_headers'"), and stops retrying
# only when an error's \`.message\` is exactly "The role assignment already exists.", which msrest's errors held and
# azure-core's prefix with the code. As those classes are imported, this file gives them \`config\` as an alias of
# \`_config\`, turns \`custom_headers=\` into azure-core's \`headers=\`, and sets the \`.message\` of the errors they
# raise to the service's message, as msrest did; it changes nothing else. Then it runs the sitecustomize it
# shadows (Debian's apport hook), so Python behaves as before for every other program.
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import os
import sys


def _msrest_compatible(method, http_response_error):
    @functools.wraps(method)
    def call(*args, **kwargs):
        custom = kwargs.pop('custom_headers', None)
        if custom:
            kwargs['headers'] = {**kwargs.get('headers', {}), **custom}
        try:
            return method(*args, **kwargs)
        except http_response_error as error:
            if error.error is not None and error.error.message:
                error.message = error.error.message
            raise
    return call


def _make_compatible(cls):
    from azure.core.exceptions import HttpResponseError
    if not hasattr(cls, 'config'):
        cls.config = property(lambda self: self._config)
    for name, member in list(vars(cls).items()):
        if not name.startswith('_') and inspect.isfunction(member):
            setattr(cls, name, _msrest_compatible(member, HttpResponseError))


class _CompatibilityFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if not (name.startswith('azure.mgmt.authorization.') and name.endswith('_operations')):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)
            for value in list(vars(module).values()):
                if isinstance(value, type) and value.__name__.endswith('Operations') and value.__module__ == module.__name__:
                    _make_compatible(value)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _CompatibilityFinder())


def _run_shadowed_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        folder = os.path.abspath(entry or os.curdir)
        candidate = os.path.join(folder, 'sitecustomize.py')
        if folder != here and os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location('_shadowed_sitecustomize', candidate)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


_run_shadowed_sitecustomize()
`;
