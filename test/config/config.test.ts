import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('loadConfig', () => {
  const refused = (message: RegExp) => (err: unknown) => err instanceof ConfigError && message.test(err.message);

  it('takes a port of digits from 1 to 65535, and nothing that Number() alone would take', () => {
    assert.equal(loadConfig({ port: '9443' }, {}).port, 9443);
    assert.equal(loadConfig({}, { ANCHORAGE_PORT: '8080' }).port, 8080);
    for (const port of ['0', '65536', '1e3', '0x50', '', ' 80', '-1']) assert.throws(() => loadConfig({ port }, {}), refused(/invalid port/), port);
  });

  it('reads ANCHORAGE_NO_TLS as 1 or true, 0 or false, and refuses anything else', () => {
    for (const [value, tls] of [['1', false], ['true', false], ['TRUE', false], ['0', true], ['false', true], ['', true]] as const) {
      assert.equal(loadConfig({}, { ANCHORAGE_NO_TLS: value }).tls, tls, value);
    }
    assert.throws(() => loadConfig({}, { ANCHORAGE_NO_TLS: 'yes' }), refused(/ANCHORAGE_NO_TLS/));
    assert.equal(loadConfig({ 'no-tls': true }, { ANCHORAGE_NO_TLS: '0' }).tls, false, 'the flag wins');
  });

  it('refuses an empty data folder path, which would put the data in the working directory', () => {
    assert.throws(() => loadConfig({ 'data-dir': '' }, {}), refused(/empty path/));
    assert.throws(() => loadConfig({}, { ANCHORAGE_DATA_DIR: ' ' }), refused(/empty path/));
  });

  it('takes pino\'s log levels only', () => {
    assert.equal(loadConfig({ 'log-level': 'debug' }, {}).logLevel, 'debug');
    assert.throws(() => loadConfig({ 'log-level': 'nonsense' }, {}), refused(/invalid log level "nonsense"/));
  });
});
