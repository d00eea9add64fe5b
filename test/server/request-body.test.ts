import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readRequestBody, RequestBodyAborted, RequestBodyStalled, RequestBodyTooLarge } from '../../src/server/request-body.js';
import { memoryLog } from '../helpers/client-tools.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestServer } from '../helpers/server.js';

/** Long enough that a hang-up after 50 ms is seen first however loaded the machine is. */
const IDLE_MS = 1000;

describe('readRequestBody', () => {
  let server: Server;
  let port: number;
  const outcomes: Array<Buffer | Error> = [];
  let settled: () => void = () => {};

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      readRequestBody(req, 1024, IDLE_MS).then(
        (body) => { outcomes.push(body); res.writeHead(200).end(`read ${body.length}`); },
        (err: Error) => { outcomes.push(err); res.writeHead(err instanceof RequestBodyStalled ? 408 : 413, { connection: 'close' }).end(err.message); },
      ).finally(() => settled());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const next = () => new Promise<void>((resolve) => { settled = resolve; });

  it('reads a body whole, declared or chunked', async () => {
    const declared = await rawRequest(port, 'POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5', 'hello');
    assert.match(declared, /^HTTP\/1.1 200[\s\S]*read 5\r\n/);
    const chunked = await rawRequest(port, 'POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked', '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    assert.match(chunked, /read 5\r\n/);
  });

  it('refuses a body over the limit, declared or as it arrives, and the answer reaches the client', async () => {
    assert.match(await rawRequest(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000', 'x'), /^HTTP\/1.1 413/);
    const chunk = 'y'.repeat(600);
    const streamed = await rawRequest(port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked', `258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`);
    assert.match(streamed, /^HTTP\/1.1 413[\s\S]*exceeds 1024 bytes/);
    assert.ok(outcomes.at(-1) instanceof RequestBodyTooLarge);
  });

  it('answers a body shorter than its Content-Length once it has stalled, instead of waiting for ever', async () => {
    const started = Date.now();
    const answer = await rawRequest(port, 'PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 100', '{"short":1}');
    assert.match(answer, /^HTTP\/1.1 408[\s\S]*stopped arriving/);
    assert.ok(Date.now() - started >= IDLE_MS - 20, 'not before the idle time');
    assert.ok(outcomes.at(-1) instanceof RequestBodyStalled);
  });

  it('tells a client that hung up mid-body apart from a server error', async () => {
    const done = next();
    await rawRequest(port, 'PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 100', '{"half', { hangUpAfterMs: 50 });
    await done;
    assert.ok(outcomes.at(-1) instanceof RequestBodyAborted, String(outcomes.at(-1)));
  });
});

describe('a client that hangs up mid-body, at the token endpoints', () => {
  it('is answered with nothing and logged as nothing worse than debug; the server goes on', async () => {
    const log = memoryLog(400, 'debug');
    const s = await startTestServer({ logger: log.logger });
    try {
      const { port } = new URL(s.server.url);
      const tenant = s.app.identity.defaultTenantId;
      const partial = (method: string, path: string, type: string) =>
        rawRequest(Number(port), `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: 100`, 'grant_type=cl', { hangUpAfterMs: 50 });
      await partial('POST', `/${tenant}/oauth2/v2.0/token`, 'application/x-www-form-urlencoded');
      await partial('POST', `/${tenant}/oauth2/token`, 'application/x-www-form-urlencoded');
      const entries = () => log.tail(400).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string });
      for (let waited = 0; entries().filter((e) => e.msg === 'the client hung up mid-request').length < 2; waited += 20) {
        assert.ok(waited < 10_000, `the server never noticed both hang-ups:\n${log.tail()}`);
        await sleep(20);
      }
      assert.deepEqual(entries().filter((e) => e.level > 30), []);
      assert.equal((await fetch(`${s.server.url}/${tenant}/v2.0/.well-known/openid-configuration`)).status, 200);
    } finally {
      await s.close();
    }
  });
});
