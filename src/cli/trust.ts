import type { Config } from '../config/config.js';
import { containerdHostsToml } from '../kube/containerd-hosts.js';
import { openAnchorage } from '../server/anchorage.js';
import { ensureLocalTls } from '../tls/local-ca.js';

/** Prints the local CA and the lines that make each kind of client trust it. */
export async function trust(config: Config): Promise<void> {
  const tls = ensureLocalTls(config.dataDir, [config.host, ...config.tlsNames]);
  const app = await openAnchorage(config);
  const hosts = (await app.registries.list()).map((r) => r.loginServer);
  app.close();
  const ca = tls.caCertPath;
  const lines = [
    `# CA certificate: ${ca}`,
    `export REQUESTS_CA_BUNDLE=${ca}   # az (Python requests)`,
    `export NODE_EXTRA_CA_CERTS=${ca}  # Node.js and the Azure SDKs`,
    `export SSL_CERT_FILE=${ca}        # OpenSSL and Go programs`,
    '# podman, skopeo, buildah and containerd look up a CA per registry host in certs.d:',
  ];
  for (const host of hosts.length ? hosts : ['<login server>']) {
    lines.push(`sudo install -D -m 0644 ${ca} /etc/containers/certs.d/${host}/ca.crt`);
    lines.push(`sudo install -D -m 0644 ${ca} /etc/containerd/certs.d/${host}/ca.crt`);
    const toml = containerdHostsToml(host, ['pull', 'resolve', 'push']).replaceAll('\n', '\\n');
    lines.push(`printf '${toml}' | sudo tee /etc/containerd/certs.d/${host}/hosts.toml >/dev/null`);
  }
  lines.push('# containerd reads certs.d when its CRI registry config_path (or ctr --hosts-dir) points at /etc/containerd/certs.d');
  console.log(lines.join('\n'));
}
