// Flag value parsers for commander: each rejects a bad value with a message that says what was
// wrong and what to give instead (commander turns it into a usage error, exit 2).
import { InvalidArgumentError } from 'commander';
import { checkReplicationFactor } from '../placement/replication-factor.js';

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

/** The alphabets the node enforces, checked before anything connects so bad input is exit 2. */
export const NODE_NAME_ALPHABET = '1-64 letters, digits, ".", "_" or "-"';
export const AGENT_ID_ALPHABET = '1-128 letters, digits, ".", "_", ":", "@" or "-"';

export function parseNodeName(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a node name: use ${NODE_NAME_ALPHABET}.`);
  return value;
}

export function parseAgentId(value: string): string {
  if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(value)) throw new InvalidArgumentError(`"${value}" is not an agent id: use ${AGENT_ID_ALPHABET}.`);
  return value;
}

/** Text that must not be empty (a note, a task, an outcome), at most 64 KiB as the node allows. */
export function parseText(value: string): string {
  if (value.length === 0) throw new InvalidArgumentError('the text is empty; give some text, or leave the option out.');
  if (value.length > 64 * 1024) throw new InvalidArgumentError('the text is longer than 64 KiB.');
  return value;
}

/** --replication-factor: an odd whole number within the allowed range (why, when not). */
export function parseReplicationFactor(value: string): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  const bad = checkReplicationFactor(n);
  if (bad) throw new InvalidArgumentError(`${bad.replace(/, got [^:]*/, '')}.`);
  return n;
}
