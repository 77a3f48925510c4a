import { writeFileSync } from 'node:fs';
import { recordScenarios } from './scenarios';
void recordScenarios({ onProgress: (m) => console.error(m), stressOrders: 10 }).then((r) => {
  writeFileSync('/tmp/rec.json', JSON.stringify(r, null, 1));
  console.error(r.calls.length, 'calls', r.unparsed);
});
