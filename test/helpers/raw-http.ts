import { connect } from 'node:net';

/**
 * Sends raw bytes (a request head, then a body) and returns whatever the server wrote back, once it closes the
 * connection or the client hangs up after `hangUpAfterMs`: for requests no HTTP client would send.
 */
export function rawRequest(port: number, head: string, body: string, { hangUpAfterMs }: { hangUpAfterMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => { answer += d.toString(); });
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(`${head}\r\n\r\n${body}`);
    if (hangUpAfterMs !== undefined) setTimeout(() => socket.destroy(), hangUpAfterMs);
  });
}
