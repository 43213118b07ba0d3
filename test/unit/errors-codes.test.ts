// Every error class has its own stable machine code; a QuorumError says how many voters were
// reachable of how many, locally and after crossing the wire (only name and message travel).
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { rebuildRemoteError } from '../../src/rpc/remote-error.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import { silentLogger } from '../../src/node/logger.js';
import { configWord } from '../../src/quorum/voter-config.js';

const classes = Object.entries(errors).filter(([, v]) => typeof v === 'function' && (v === errors.TriError || v.prototype instanceof errors.TriError)) as Array<[string, new (m: string) => errors.TriError]>;

describe('error codes', () => {
  it('each class has a distinct TRI_ code, shown by toJSON', () => {
    const codes = classes.map(([, Cls]) => new Cls('x').code);
    expect(classes.length).toBeGreaterThan(10);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^TRI_[A-Z_]+$/);
    expect(new errors.WriteTimeoutError('late').toJSON()).toEqual({ code: 'TRI_WRITE_TIMEOUT', name: 'WriteTimeoutError', message: 'late' });
  });

  it('a read-only node throws a QuorumError with the voters it reaches of how many, which survives the wire', () => {
    // Voters n0..n4 on configuration 2; n0 reaches only n1 of the others.
    const members = (): QuorumMember[] =>
      ['n0', 'n1', 'n2', 'n3', 'n4'].map((name, i) => ({ name, role: 'hybrid', state: 'ACTIVE', reachable: i < 2, stateChangedAt: 0, configWord: configWord(2, false) }));
    const gate = new QuorumGate('n0', members, 10_000, silentLogger());
    gate.adopt({ epoch: 2, voters: ['n0', 'n1', 'n2', 'n3', 'n4'].map((name) => ({ name, role: 'hybrid' as const })), removed: [], id: '2/n0', replicationFactor: 3 });
    let err: unknown;
    try {
      gate.assertWritable();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(errors.QuorumError);
    const q = err as errors.QuorumError;
    expect([q.code, q.reachable, q.voters]).toEqual(['TRI_QUORUM', 2, 5]);
    const remote = rebuildRemoteError(q.name, q.message);
    expect(remote).toBeInstanceOf(errors.QuorumError);
    expect(remote.toJSON()).toMatchObject({ code: 'TRI_QUORUM', reachable: 2, voters: 5 });
    // An older node's message without the counts: the data says it does not know.
    expect(new errors.QuorumError('read-only').toJSON()).toMatchObject({ reachable: null, voters: null });
  });
});
