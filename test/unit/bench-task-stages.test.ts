// The task bench's in-process figures: every stage of one task is measured on the real classes
// (a replica that refused an update would throw in applyRemoteUpdate), the arithmetic charges one
// writer and n - 1 replicas, and the floor's one-value episode is acknowledged by a real replica.
import { expect, it } from 'vitest';
import { measureTaskStages, stagesArithmetic, type TaskStages } from '../../bench/task-stages.js';
import { measureReplicaFloor } from '../../bench/task-floor.js';

it('measures every stage of one task, on the writer, a replica and the recall index', () => {
  const s = measureTaskStages(120, 12, 8);
  expect(s.tasks).toBe(120);
  for (const [k, v] of Object.entries(s)) {
    if (!k.endsWith('Us')) continue;
    expect(Number.isFinite(v), k).toBe(true);
    expect(v, k).toBeGreaterThan(0);
  }
});

it('charges one writer, n - 1 replicas and n recall folds per task', () => {
  const s: TaskStages = {
    writerSubmitUs: 10,
    writerAnswerUs: 1,
    writerOutcomeUs: 4,
    writerEpisodeUs: 20,
    replicaTableUs: 6,
    replicaEpisodeUs: 15,
    recallFoldUs: 9,
    sealedEpisodeWriteUs: 5,
    sealedEpisodeApplyUs: 3,
    tasks: 1,
    batch: 1,
  };
  const a = stagesArithmetic(s, 4);
  expect(a.writerUs).toBe(44);
  expect(a.replicaUs).toBe(30);
  expect(a.clusterUs).toBe(44 + 3 * 30);
  expect(a.recallShare).toBeCloseTo(36 / 134, 9);
  expect(a.sealedSavingUs).toBe(15 + 3 * 12);
});

it('the floor measures an episode written as one value, acknowledged by a real replica', () => {
  const f = measureReplicaFloor(200, 16, 32);
  expect(f.sealedEpisodeUs).toBeGreaterThan(0);
  expect(f.episodeUs).toBeGreaterThan(0);
}, 120_000);
