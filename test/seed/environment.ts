import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config/config.js';
import { openAnchorage, type Anchorage } from '../../src/server/anchorage.js';
import { bootstrap, type BootstrapInfo } from '../../src/server/bootstrap.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { ensureLocalTls } from '../../src/tls/local-ca.js';
import { runCli } from '../helpers/cli.js';
import { certsDir, run, writeText, type CommandResult } from '../helpers/client-tools.js';
import type { ImageLayout } from '../helpers/oci-image.js';
import { freePort } from '../helpers/server.js';

/**
 * What the seed's tests share: a TLS server after its first start (as `npm start` leaves it), in this process so
 * that assertions can read the truth from its services, with every log line kept; a home folder of its own for the
 * shells the tests run; and `anchorage az-setup`'s three commands, run as printed, so that every later shell only
 * has to source the env file, as a user's would.
 */
export interface SeedEnvironment {
  app: Anchorage;
  config: Config;
  info: BootstrapInfo;
  dataDir: string;
  /** HOME of every shell: ~/.azure, ~/.ssh, ~/.kube and ~/.docker of whoever runs the tests stay untouched. */
  home: string;
  /** A scratch folder for the clients' files, removed with the rest. */
  work: string;
  caPath: string;
  /** certs.d/<login server> with the CA as ca.crt, for skopeo's and podman's --cert-dir. */
  certDir: string;
  /** skopeo with a policy and registries.d of the test's own; fails with its output and the server's log lines. */
  skopeo(...args: string[]): Promise<CommandResult>;
  /** Pushes an OCI layout to the demo registry with skopeo, as the administrator (Owner of the subscription). */
  push(layout: ImageLayout, repository: string, tag?: string): Promise<void>;
  /** `anchorage az-setup`'s output. */
  azSetupOutput: string;
  /** The three commands it printed, output and all, as they ran. */
  setupRun: ShellResult;
  /** Runs a bash script after `source <data>/az/env`; fails with the script, its output and the server's log lines for it. */
  shell(script: string, options?: { allowFailure?: boolean; env?: Record<string, string> }): Promise<ShellResult>;
  /** The server's log lines since `mark` (a value of `logMark()`). */
  logSince(mark: number): string;
  logMark(): number;
  close(): Promise<void>;
}

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Lines `@@NAME=value` the script printed, for the variables a test reads back. */
  vars: Record<string, string>;
  /** How long it took, in milliseconds. */
  ms: number;
}

const SHELL_TIMEOUT_MS = 240_000;

/** The variables a test wants back, printed after a script as `@@NAME=value` lines. */
export function printVars(...names: string[]): string {
  return names.map((n) => `printf '@@%s=%s\\n' ${n} "$${n}"`).join('\n');
}

export async function startSeedEnvironment(): Promise<SeedEnvironment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'anchorage-seed-'));
  const home = mkdtempSync(join(tmpdir(), 'anchorage-seed-home-'));
  /** The clients' own configuration (certs.d, skopeo's policy) and whatever else the tests write. */
  const work = mkdtempSync(join(tmpdir(), 'anchorage-seed-work-'));
  const port = await freePort();
  const config = loadConfig({ 'data-dir': dataDir, port: String(port), 'log-requests': true }, {});
  const lines: string[] = [];
  const logger: Logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(line.trimEnd()); } });
  // What `anchorage serve` does, minus its printing: the local CA, the first start, the server.
  const tls = ensureLocalTls(config.dataDir);
  const app = await openAnchorage(config);
  const { info } = await bootstrap(app, { caCertPath: tls.caCertPath });
  let server: RunningServer | undefined;
  try {
    server = await startServer(app, tls, logger);
  } catch (err) {
    app.close();
    throw err;
  }

  const logSince = (mark: number): string => lines.slice(mark).join('\n') || '(no server log lines)';
  const baseEnv = cleanEnv(home);

  const runBash = (script: string, env: Record<string, string>, allowFailure: boolean): Promise<ShellResult> => {
    const mark = lines.length;
    const started = Date.now();
    return new Promise((resolve, reject) => {
      execFile('bash', ['-c', script], { env: { ...baseEnv, ...env }, cwd: home, timeout: SHELL_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
          const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
          const vars = Object.fromEntries(stdout.split('\n').filter((l) => l.startsWith('@@')).map((l) => {
            const at = l.indexOf('=');
            return [l.slice(2, at), l.slice(at + 1)];
          }));
          const result = { code, stdout, stderr, vars, ms: Date.now() - started };
          if (code === 0 || allowFailure) {
            resolve(result);
            return;
          }
          reject(new Error([
            `this script ${e?.killed ? `timed out after ${SHELL_TIMEOUT_MS} ms` : `exited with ${code}`}:`,
            script,
            `--- stdout ---\n${stdout || '(empty)'}`,
            `--- stderr ---\n${stderr || '(empty)'}`,
            `--- server log while it ran ---\n${logSince(mark)}`,
          ].join('\n')));
        });
    });
  };

  const close = async (): Promise<void> => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  };

  try {
    const setup = await runCli(['az-setup', '--data-dir', dataDir, '--port', String(port)]);
    if (setup.code !== 0) throw new Error(`anchorage az-setup exited with ${setup.code}:\n${setup.stdout}\n${setup.stderr}`);
    const commands = setup.stdout.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    const setupRun = await runBash(['set -e', ...commands].join('\n'), {}, false);
    const envFile = join(dataDir, 'az', 'env');
    const certDir = await certsDir(join(work, 'certs.d'), info.demo.loginServer, tls.caCertPath);
    const policy = await writeText(join(work, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    await writeText(join(work, 'registries.d', 'default.yaml'), 'default-docker: {}\n');
    const skopeo = async (...args: string[]): Promise<CommandResult> => {
      const mark = lines.length;
      try {
        return await run('skopeo', ['--policy', policy, '--registries.d', join(work, 'registries.d'), ...args], { env: { HOME: home } });
      } catch (err) {
        (err as Error).message += `\n--- server log while it ran ---\n${logSince(mark)}`;
        throw err;
      }
    };
    return {
      app, config, info, dataDir, home, work, caPath: tls.caCertPath, certDir, skopeo, azSetupOutput: setup.stdout, setupRun,
      push: async (layout, repository, tag = layout.tag) => {
        await skopeo('copy', '--dest-cert-dir', certDir, '--dest-creds', `${info.admin.appId}:${info.admin.password}`, `oci:${layout.dir}:${layout.tag}`, `docker://${info.demo.loginServer}/${repository}:${tag}`);
      },
      shell: (script, options = {}) => runBash(`set -e\nsource '${envFile}'\n${script}`, options.env ?? {}, options.allowFailure ?? false),
      logSince,
      logMark: () => lines.length,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The test runner's environment without what would point az, Python or the clients elsewhere (ANCHORAGE_*, AZURE_*,
 * REQUESTS_CA_BUNDLE, PYTHONPATH, DOCKER_CONFIG, KUBECONFIG, ...), with HOME replaced.
 */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  const drop = /^(ANCHORAGE_|AZURE_|ARM_|MSAL_|REQUESTS_CA_BUNDLE$|CURL_CA_BUNDLE$|SSL_CERT_|PYTHON|DOCKER_|KUBECONFIG$|REGISTRY_AUTH_FILE$|XDG_)/;
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !drop.test(k))), HOME: home };
}
