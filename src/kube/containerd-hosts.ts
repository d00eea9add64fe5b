/**
 * containerd's certs.d `hosts.toml` for a registry served over HTTPS with Anchorage's CA (placed beside it as
 * ca.crt). The [host] entry is what matters: with certificate files alone, containerd 1.6 speaks plain HTTP
 * to a localhost registry.
 */
export function containerdHostsToml(host: string, capabilities: readonly string[]): string {
  return `server = "https://${host}"\n\n[host."https://${host}"]\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(', ')}]\n  ca = "ca.crt"\n`;
}
