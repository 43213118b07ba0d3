// JSON-lines logging through pino (levels, child loggers, fast serialisation). Cores receive the
// Logger interface of src/runtime/types.ts, so nothing below the node depends on pino itself.
import { pino } from 'pino';
import type { Logger } from '../runtime/types.js';
import { textDestination } from './log-text.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type LogFormat = 'json' | 'text';

export function createLogger(options: { level?: LogLevel; name?: string; destination?: number; format?: LogFormat } = {}): Logger {
  const level = options.level ?? (process.env.TRI_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const fd = options.destination ?? 1;
  const dest = options.format === 'text' ? textDestination(fd) : pino.destination({ dest: fd, sync: true });
  return pino({ level, base: options.name ? { name: options.name } : {}, timestamp: pino.stdTimeFunctions.isoTime }, dest) as unknown as Logger;
}

/** A logger that drops everything; tests and the simulator use it. */
export { silentLogger } from '../runtime/silent-logger.js';
