#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { parseAzureJson, type NodeConfig } from '../kube/credential-provider/node-identity.js';
import { CredentialProviderError, parseRequest } from '../kube/credential-provider/protocol.js';
import { provideCredentials } from '../kube/credential-provider/provider.js';

/**
 * `anchorage-credential-provider /etc/kubernetes/azure.json`: the kubelet's image credential provider. The
 * kubelet runs it with the CredentialProviderRequest on stdin and reads the response from stdout; on failure it
 * exits 1 with one line on stderr, which the kubelet logs, so that line never holds the node's secret.
 */
const USAGE = 'usage: anchorage-credential-provider AZURE_JSON (the kubelet sends the CredentialProviderRequest on stdin)';

async function main(args: string[]): Promise<void> {
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    console.log(USAGE);
    return;
  }
  let config: NodeConfig | undefined;
  try {
    if (args.length !== 1) throw new CredentialProviderError(USAGE);
    const file = args[0]!;
    let configText: string;
    try {
      configText = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CredentialProviderError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    config = parseAzureJson(configText, file);
    const response = await provideCredentials(parseRequest(await text(process.stdin)), config);
    process.stdout.write(`${JSON.stringify(response)}\n`);
  } catch (err) {
    const message = err instanceof CredentialProviderError ? err.message : `unexpected error: ${(err as Error).message ?? String(err)}`;
    process.stderr.write(`anchorage-credential-provider: ${redact(message, config)}\n`);
    process.exitCode = 1;
  }
}

/** A last guard: should any message ever echo the node's secret, it is cut out, and the message kept to one line. */
function redact(message: string, config: NodeConfig | undefined): string {
  const secret = config?.identity.kind === 'servicePrincipal' ? config.identity.clientSecret : undefined;
  const line = message.replace(/\s*\r?\n\s*/g, ' ');
  return secret ? line.split(secret).join('[redacted]') : line;
}

await main(process.argv.slice(2));
