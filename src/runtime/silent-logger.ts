// A logger that drops everything: tests, the simulator and the client library use it. Kept apart
// from src/node/logger.ts so a client (the CLI) does not load pino to discard its logs.
import type { Logger } from './types.js';

export function silentLogger(): Logger {
  const l: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => l };
  return l;
}
