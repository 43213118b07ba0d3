// Flag value parsers for commander: each rejects a bad value with a message that says what was
// wrong and what to give instead (commander turns it into a usage error, exit 2).
import { InvalidArgumentError } from 'commander';

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port; give a number from 0 to 65535.`);
  return n;
}

export function parseIntIn(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`"${value}" is not a whole number from ${min} to ${max}.`);
    return n;
  };
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${choices.join(', ')}.`);
    return value as T;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** HOST[:PORT] with a default port; the host may be a name or an IPv4/IPv6 address. */
export function parseHostPort(defaultPort: number) {
  return (value: string): string => {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(value);
    if (!m) throw new InvalidArgumentError(`"${value}" is not HOST[:PORT], for example 127.0.0.1:${defaultPort}.`);
    const port = m[2] ?? String(defaultPort);
    parsePort(port);
    return m[1]!.includes(':') ? `[${m[1]}]:${port}` : `${m[1]}:${port}`;
  };
}
