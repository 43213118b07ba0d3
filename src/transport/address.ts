import { ConfigError } from '../errors.js';
import type { Address } from './types.js';

/** Splits "host:port" (or "[v6]:port"); throws ConfigError on anything else. */
export function parseAddress(addr: string, defaultPort?: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr) ?? /^([^:]+)(?::(\d+))?$/.exec(addr);
  if (!m || !m[1]) throw new ConfigError(`"${addr}" is not an address: give HOST:PORT, for example 127.0.0.2:9999`);
  const port = m[2] !== undefined ? Number(m[2]) : defaultPort;
  if (port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`"${addr}" has no valid port: give HOST:PORT with a port from 0 to 65535`);
  }
  return { host: m[1], port };
}

export function formatAddress(host: string, port: number): Address {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
