import { pino, type Logger } from 'pino';

/** Structured logs on stderr, so stdout stays for what people and scripts read. Secrets never reach a log call. */
export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: false }));
}
