import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../lambda-runtime';
import type { AlarmStatus } from './engine';

/** Where `npm start` keeps the current alarm states for `npm run alarms`. */
export const ALARM_STATE_FILE = join(PROJECT_ROOT, '.local', 'alarms.json');

/** What the alarm state file holds. */
export interface AlarmStateSnapshot {
  /** Wall-clock ISO time of the snapshot. */
  writtenAt: string;
  pid: number;
  alarms: AlarmStatus[];
}

export async function writeAlarmStates(alarms: AlarmStatus[], file = ALARM_STATE_FILE): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const snapshot: AlarmStateSnapshot = { writtenAt: new Date().toISOString(), pid: process.pid, alarms };
  await writeFile(`${file}.tmp`, JSON.stringify(snapshot, null, 2));
  await writeFile(file, JSON.stringify(snapshot, null, 2));
  await rm(`${file}.tmp`, { force: true });
}

/** Raised when no local stack publishes its alarm states. */
export class NoAlarmStatesError extends Error {
  override readonly name = 'NoAlarmStatesError';
}

export async function readAlarmStates(file = ALARM_STATE_FILE): Promise<AlarmStateSnapshot> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new NoAlarmStatesError(`no local stack is running (no ${file}); start one with: npm start`);
  }
  const snapshot = JSON.parse(text) as AlarmStateSnapshot;
  try {
    process.kill(snapshot.pid, 0);
  } catch {
    throw new NoAlarmStatesError(
      `the local stack that wrote ${file} (pid ${snapshot.pid}) is not running; start one with: npm start`,
    );
  }
  return snapshot;
}
