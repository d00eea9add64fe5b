#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CONFIG_OPTIONS, loadConfig, type ConfigFlags } from '../config/config.js';
import { azSetup } from './az-setup.js';
import { gc } from './gc.js';
import { keysCommand } from './keys.js';
import { kubeCommand } from './kube.js';
import { parseDuration } from './output.js';
import { requireDataFolder } from '../server/anchorage.js';
import { registryCommand } from './registry.js';
import { serve } from './serve.js';
import { trust } from './trust.js';

const USAGE = `usage: anchorage <command> [options]

commands:
  serve                     start every plane (default: https on 127.0.0.1:8443, data in ./data)
  trust                     print the local CA and how to make clients trust it
  az-setup                  write what the Azure CLI needs into DATA/az and print the commands that point az here
  registry create NAME      create a registry (5-50 letters and digits) [--anonymous-pull true]
  registry list             list registries and their login servers
  registry update NAME      [--anonymous-pull true|false] [--gc-untagged true|false]
  registry delete NAME      delete a registry and everything in it
  gc                        remove unreferenced content [--dry-run] [--grace 1h]
  keys list|rotate          the identity and registry token signing keys; rotate makes new ones sign
  keys remove KID           withdraw a key at once: every token it signed stops verifying
  kube COMMAND              the Kubernetes side: node-config, pull-secret, expiring, check (anchorage kube --help)

options for every command:
  --data-dir DIR  --host HOST  --port PORT  --no-tls  --registry-domain DOMAIN
  --tls-name NAME  --public-url URL  --log-requests  --log-level LEVEL`;

const OPTIONS = {
  ...CONFIG_OPTIONS,
  help: { type: 'boolean', short: 'h' },
  'dry-run': { type: 'boolean' },
  grace: { type: 'string' },
  'anonymous-pull': { type: 'string' },
  'gc-untagged': { type: 'string' },
} as const;

/**
 * A kid is a base64url thumbprint, so one in 64 begins with '-', which the parser would take for an unknown option.
 * After `keys remove`, the first argument that is neither an option of ours nor the value of one is the kid: it
 * moves behind `--`, where the parser reads it as a positional.
 */
function kidAsPositional(argv: string[]): string[] {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  const [command, action] = tokens.filter((t) => t.kind === 'positional');
  if (command?.value !== 'keys' || action?.value !== 'remove') return argv;
  const kid = tokens.find((t) => t.index > action.index && (t.kind === 'positional' || (t.kind === 'option' && !Object.hasOwn(OPTIONS, t.name))));
  if (kid?.kind !== 'option') return argv;
  const rest = argv.filter((_, i) => i !== kid.index);
  const terminator = rest.indexOf('--');
  return terminator < 0 ? [...rest, '--', argv[kid.index]!] : [...rest.slice(0, terminator + 1), argv[kid.index]!, ...rest.slice(terminator + 1)];
}

/** How many arguments each command takes after its name (`registry create NAME`, `keys remove KID`). */
const POSITIONALS: Record<string, number> = { registry: 2, keys: 2 };

async function main(argv: string[]): Promise<void> {
  // The kube commands have options of their own, which the parser below would refuse.
  if (argv[0] === 'kube') return kubeCommand(argv.slice(1));
  const { values, positionals } = parseArgs({ args: kidAsPositional(argv), allowPositionals: true, options: OPTIONS });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const extra = rest[POSITIONALS[command] ?? 0];
  if (extra !== undefined) throw new Error(`unexpected argument ${JSON.stringify(extra)} after \`${[command, ...rest.slice(0, POSITIONALS[command] ?? 0)].join(' ')}\`; see anchorage --help`);
  const config = loadConfig(values as ConfigFlags);
  if (['trust', 'registry', 'gc', 'keys'].includes(command)) requireDataFolder(config);
  switch (command) {
    case 'serve':
      return serve(config);
    case 'trust':
      return trust(config);
    case 'az-setup':
      return azSetup(config);
    case 'registry':
      return registryCommand(config, { action: rest[0] ?? 'list', name: rest[1], anonymousPull: values['anonymous-pull'], gcUntagged: values['gc-untagged'] });
    case 'gc':
      return gc(config, { dryRun: values['dry-run'] ?? false, graceMs: parseDuration(values.grace ?? '1h') });
    case 'keys':
      return keysCommand(config, rest[0] ?? 'list', rest[1]);
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  }
}

/**
 * A stack trace is for a bug: the engine's own errors (a TypeError and the like). Everything else, the planes'
 * errors and the system's (a missing file, a port in use), is the user's to act on, and its message says what.
 */
function isBug(err: unknown): boolean {
  const engine = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError].some((kind) => err instanceof kind);
  return !(err instanceof Error) || (engine && !(err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`anchorage: ${isBug(err) ? (err as Error).stack ?? String(err) : (err as Error).message}`);
  process.exit(1);
});
