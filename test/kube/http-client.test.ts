import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../../src/kube/http-client.js';

describe('HttpClient with a deadline', () => {
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/silent') return;
      // A trickle: a byte every 50 ms, never the end, so that no idle timeout would ever fire.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const timer = setInterval(() => res.write('x'), 50);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  for (const path of ['/silent', '/trickle']) {
    it(`gives up on ${path.slice(1)} endpoint when the time allowed for all requests runs out`, async () => {
      const started = Date.now();
      const http = new HttpClient(undefined, started + 400);
      try {
        await assert.rejects(http.send(`${base}${path}`), /the time allowed ran out/);
        const took = Date.now() - started;
        assert.ok(took >= 350 && took < 5_000, `gave up after ${took} ms`);
        await assert.rejects(http.send(`${base}${path}`), /no time is left/, 'a later request does not start');
      } finally {
        http.close();
      }
    });
  }
});
