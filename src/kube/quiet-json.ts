/**
 * JSON.parse for files that hold secrets (azure.json, docker config.json): V8's message quotes the text around a
 * syntax error, which could put part of a secret in the kubelet's log. This one names only where the error is.
 */
export function parseJsonQuietly(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const position = /at position (\d+)/.exec((err as Error).message)?.[1];
    if (position === undefined) throw new Error('not valid JSON');
    const before = text.slice(0, Number(position)).split('\n');
    throw new Error(`not valid JSON (line ${before.length}, column ${before.at(-1)!.length + 1})`);
  }
}
