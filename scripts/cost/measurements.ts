import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EndToEndResult } from '../bench/local-e2e';
import { usageDelta, type FunctionUsage } from '../bench/usage';

/** Where `npm run bench` leaves what it measured for `npm run cost` (checked in with the code it measured). */
export const MEASUREMENTS_FILE = join(__dirname, 'measurements.json');

/** What the local end-to-end run measured, per order, that the template cannot say. */
export interface Measurements {
  /** ISO time of the run. */
  measuredAt: string;
  /** How it was produced. */
  command: string;
  orders: number;
  /** Status polling interval of the bench client, ms. */
  pollIntervalMs: number;
  /** Powertools log level of the handlers during the run. */
  logLevel: string;
  callsPerOrder: number;
  callsPerOrderWithoutPolls: number;
  statusReadsPerOrder: number;
  /** Empty SQS receives per order during the run (time-driven; not in the call counts). */
  idleReceivesPerOrder: number;
  byOperation: Record<string, number>;
  /** Per handler folder: invocations, log bytes and log lines per order (status reads included). */
  functions: Record<string, FunctionUsage>;
  /** One status read measured alone. */
  statusRead: { reads: number; callsPerRead: number; publisher: FunctionUsage };
  /** Custom metrics the handlers' EMF output defines. */
  customMetrics: string[];
  /** Mean item size after the run, bytes, by table output name. */
  itemBytes: Record<string, number>;
}

/** The per-order figures of an end-to-end run. */
export function measurementsOf(
  result: EndToEndResult,
  command: string,
  pollIntervalMs: number,
): Measurements {
  return {
    measuredAt: new Date().toISOString(),
    command,
    orders: result.orders,
    pollIntervalMs,
    logLevel: result.logLevel,
    callsPerOrder: Number(result.callsPerOrder.toFixed(4)),
    callsPerOrderWithoutPolls: Number(result.callsPerOrderWithoutPolls.toFixed(4)),
    statusReadsPerOrder: Number(result.statusReadsPerOrder.toFixed(4)),
    idleReceivesPerOrder: Number(result.idleReceivesPerOrder.toFixed(4)),
    byOperation: Object.fromEntries(result.byOperation.map(([op, n]) => [op, Number(n.toFixed(4))])),
    functions: Object.fromEntries(
      Object.entries(result.functions)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([entry, usage]) => [entry, usageDelta(usage, undefined, result.orders)]),
    ),
    statusRead: {
      reads: result.statusRead.reads,
      callsPerRead: Number(result.statusRead.callsPerRead.toFixed(4)),
      publisher: result.statusRead.publisher,
    },
    customMetrics: result.customMetrics,
    itemBytes: Object.fromEntries(
      Object.entries(result.itemBytes).map(([table, bytes]) => [table, Math.round(bytes)]),
    ),
  };
}

export function writeMeasurements(measurements: Measurements, file = MEASUREMENTS_FILE): void {
  writeFileSync(file, `${JSON.stringify(measurements, null, 2)}\n`);
}

/** Thrown when the measurements are missing or unreadable. */
export class MissingMeasurementsError extends Error {}

export function readMeasurements(file = MEASUREMENTS_FILE): Measurements {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Measurements;
  } catch (error) {
    throw new MissingMeasurementsError(
      `cannot read ${file} (${(error as Error).message}): run \`npm run bench\` to measure`,
    );
  }
}
