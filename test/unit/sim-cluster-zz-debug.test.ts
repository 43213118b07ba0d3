import { it } from 'vitest';
import { runScenario } from '../property/sim-quorum-scenario.js';
it('debug', async () => {
  await runScenario(17, [{"op":{"kind":"write","node":3,"agent":2},"waitMs":50},{"op":{"kind":"heal"},"waitMs":3954},{"op":{"kind":"partition","sides":[2,2,1,0,2]},"waitMs":52},{"op":{"kind":"restart","node":3},"waitMs":725},{"op":{"kind":"restart","node":0},"waitMs":5864},{"op":{"kind":"write","node":4,"agent":2},"waitMs":51},{"op":{"kind":"write","node":0,"agent":1},"waitMs":3127},{"op":{"kind":"crash","node":3},"waitMs":55}] as never, 'debug');
}, 120_000);
