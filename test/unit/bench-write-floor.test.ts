// The write floor replays a writer's real pushes into a real replica (SQLite, group commit): the
// replica must acknowledge every push (receive() throws otherwise), and the arithmetic charges one
// writer and n - 1 replicas per write.
import { expect, it } from 'vitest';
import { measureWriteFloor, writeFloorArithmetic } from '../../bench/quorum/write-floor.js';

it('measures a writer and a replica on the real write path, and charges n - 1 replicas per write', () => {
  const f = measureWriteFloor(400, 16, 8);
  expect(f.writerUs).toBeGreaterThan(0);
  expect(f.replicaUs).toBeGreaterThan(f.replicaStoreUs);
  expect(f.replicaStoreUs).toBeGreaterThan(0);
  // One episode as the bench writes it: task, outcome, note, one tag, in a Yjs update.
  expect(f.episodeBytes).toBeGreaterThan(150);
  expect(f.episodeBytes).toBeLessThan(600);
  const at5 = writeFloorArithmetic({ ...f, writerUs: 100, replicaUs: 50 }, 5, 2);
  expect(at5.cpuMsPerWrite).toBeCloseTo(0.3, 9);
  expect(at5.maxWritesPerSec).toBeCloseTo(2000 / 0.3, 6);
});
