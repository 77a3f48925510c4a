/**
 * The end-to-end accounting of a stress run, on plain data: what was sent and answered, and what
 * the tables and the bucket hold afterwards. It proves that nothing accepted was lost, nothing was
 * done twice, and every failure was recorded. Pure: the AWS reads live in observe.ts.
 */
import type { OrderStatus } from '../../lambdas/shared/runtime-contract';
import { TERMINAL_STATUSES } from '../lib/order-client';
import { EXPECTED_ANSWER, type RequestKind } from './mix';

/** One request as it went out and what came back. */
export interface RequestOutcome {
  index: number;
  kind: RequestKind;
  /** The order id the body carried. */
  orderId: string;
  /** When the request started, in ms since the run started. */
  startedMs: number;
  latencyMs: number;
  /** HTTP status, or 0 when no answer came (timeout, refused connection). */
  status: number;
  /** The `order_id` of a 202 answer. */
  acceptedOrderId?: string;
  /** Why no answer came. */
  error?: string;
}

/** An item of the orders table, as far as the accounting needs it. */
export interface OrderRow {
  order_id: string;
  status: OrderStatus;
  created_at?: string;
  updated_at?: string;
}

/** An item of the billing table. */
export interface BillingRecord {
  order_id: string;
}

/** One version of an archive object (`orders/YYYY/MM/DD/<order_id>.json`). */
export interface ArchiveVersion {
  order_id: string;
  key: string;
  versionId: string;
}

/** An item of the failed-orders table. */
export interface FailedOrderRow {
  order_id: string;
  failure_id: string;
  source?: string;
}

/** What the pipeline's stores hold for the run's order ids. */
export interface Observations {
  /** Orders table items of the accepted ids and of the refused requests' ids. */
  orders: ReadonlyMap<string, OrderRow>;
  billing: readonly BillingRecord[];
  archive: readonly ArchiveVersion[];
  failed: readonly FailedOrderRow[];
}

/** Side effects of one order, for the lists of problems. */
export interface OrderSideEffects {
  orderId: string;
  billingRecords: number;
  archiveVersions: number;
}

/** The accounting of a run. */
export interface Accounting {
  /** Distinct order ids answered 202. */
  accepted: number;
  /** Accepted orders in a terminal status. */
  terminal: number;
  completed: number;
  rejected: number;
  failed: number;
  /** FAILED orders with at least one failed-orders row. */
  failedRecorded: number;
  /** Accepted orders per status in the orders table; `MISSING` when there is no item. */
  statuses: Record<string, number>;
  /** accepted - terminal. */
  lost: number;
  lostOrders: Array<{ orderId: string; status: string }>;
  /** Orders with more than one billing record or more than one archive object version. */
  duplicates: number;
  duplicateOrders: OrderSideEffects[];
  /** FAILED orders without a failed-orders row. */
  failedWithoutRecord: string[];
  /** COMPLETED orders missing their billing record or archive object. */
  completedWithoutSideEffects: OrderSideEffects[];
  /** Accepted orders whose end does not fit their kind (a valid order REJECTED, a business-invalid one COMPLETED). */
  unexpectedOutcomes: Array<{ orderId: string; kind: RequestKind; status: string }>;
  /** Ids of refused requests (400, 401) that exist in the orders table anyway. */
  refusedButStored: string[];
}

/** The kind behind each accepted order id; a replay only counts when nothing else was accepted for the id. */
export function acceptedOrders(outcomes: readonly RequestOutcome[]): Map<string, RequestKind> {
  const accepted = new Map<string, RequestKind>();
  for (const outcome of outcomes) {
    if (outcome.status !== 202 || outcome.acceptedOrderId === undefined) continue;
    const known = accepted.get(outcome.acceptedOrderId);
    if (known === undefined || known === 'replay') accepted.set(outcome.acceptedOrderId, outcome.kind);
  }
  return accepted;
}

/** Ids of requests the publisher refused, which must have left nothing behind. */
export function refusedOrderIds(outcomes: readonly RequestOutcome[]): string[] {
  const accepted = acceptedOrders(outcomes);
  const refused = new Set<string>();
  for (const outcome of outcomes) {
    if ((outcome.status === 400 || outcome.status === 401) && !accepted.has(outcome.orderId)) {
      refused.add(outcome.orderId);
    }
  }
  return [...refused];
}

function isTerminal(status: string | undefined): boolean {
  return status !== undefined && (TERMINAL_STATUSES as readonly string[]).includes(status);
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** Which terminal statuses fit an accepted order of each kind. */
const FITTING_OUTCOMES: Readonly<Record<RequestKind, readonly string[]>> = {
  valid: ['COMPLETED', 'FAILED'],
  replay: ['COMPLETED', 'FAILED'],
  businessReject: ['REJECTED'],
  schemaInvalid: [],
  badSignature: [],
};

/** Accounts for every accepted order against what the stores hold. */
export function account(outcomes: readonly RequestOutcome[], observed: Observations): Accounting {
  const accepted = acceptedOrders(outcomes);
  const billing = countBy(observed.billing, (record) => record.order_id);
  // A version id is unique per object version; counting distinct ones keeps a listing that
  // overlapped two pages from looking like a duplicate.
  const archive = countBy(
    [
      ...new Map(
        observed.archive.map((version) => [`${version.key}#${version.versionId}`, version]),
      ).values(),
    ],
    (version) => version.order_id,
  );
  const failedRows = countBy(observed.failed, (row) => row.order_id);
  const sideEffects = (orderId: string): OrderSideEffects => ({
    orderId,
    billingRecords: billing.get(orderId) ?? 0,
    archiveVersions: archive.get(orderId) ?? 0,
  });

  const result: Accounting = {
    accepted: accepted.size,
    terminal: 0,
    completed: 0,
    rejected: 0,
    failed: 0,
    failedRecorded: 0,
    statuses: {},
    lost: 0,
    lostOrders: [],
    duplicates: 0,
    duplicateOrders: [],
    failedWithoutRecord: [],
    completedWithoutSideEffects: [],
    unexpectedOutcomes: [],
    refusedButStored: [],
  };
  for (const [orderId, kind] of [...accepted].sort(([a], [b]) => a.localeCompare(b))) {
    const status = observed.orders.get(orderId)?.status ?? 'MISSING';
    result.statuses[status] = (result.statuses[status] ?? 0) + 1;
    const effects = sideEffects(orderId);
    if (effects.billingRecords > 1 || effects.archiveVersions > 1) result.duplicateOrders.push(effects);
    if (!isTerminal(status)) {
      result.lostOrders.push({ orderId, status });
      continue;
    }
    result.terminal++;
    if (!FITTING_OUTCOMES[kind].includes(status)) result.unexpectedOutcomes.push({ orderId, kind, status });
    if (status === 'COMPLETED') {
      result.completed++;
      if (effects.billingRecords === 0 || effects.archiveVersions === 0) {
        result.completedWithoutSideEffects.push(effects);
      }
    } else if (status === 'REJECTED') {
      result.rejected++;
    } else {
      result.failed++;
      if ((failedRows.get(orderId) ?? 0) > 0) result.failedRecorded++;
      else result.failedWithoutRecord.push(orderId);
    }
  }
  result.lost = result.accepted - result.terminal;
  result.duplicates = result.duplicateOrders.length;
  result.refusedButStored = refusedOrderIds(outcomes)
    .filter((orderId) => observed.orders.has(orderId))
    .sort();
  return result;
}

/** What came back from the publisher, per kind and status code. */
export interface RequestStats {
  sent: number;
  /** Requests per kind. */
  byKind: Record<string, number>;
  /** Answers per status code (`0` = no answer). */
  byStatus: Record<string, number>;
  /** Requests whose answer is not the one their kind expects (see EXPECTED_ANSWER). */
  errors: number;
  errorRate: number;
  /** Answers whose code is not in the profile's expected codes, per code. */
  unexpectedStatusCodes: Record<string, number>;
}

/** Counts answers, and which of them missed what the kind or the profile expects. */
export function requestStats(
  outcomes: readonly RequestOutcome[],
  expectedStatusCodes: readonly number[],
): RequestStats {
  const stats: RequestStats = {
    sent: outcomes.length,
    byKind: {},
    byStatus: {},
    errors: 0,
    errorRate: 0,
    unexpectedStatusCodes: {},
  };
  for (const outcome of outcomes) {
    stats.byKind[outcome.kind] = (stats.byKind[outcome.kind] ?? 0) + 1;
    const code = String(outcome.status);
    stats.byStatus[code] = (stats.byStatus[code] ?? 0) + 1;
    if (!expectedStatusCodes.includes(outcome.status)) {
      stats.unexpectedStatusCodes[code] = (stats.unexpectedStatusCodes[code] ?? 0) + 1;
    }
    const wrongOrder =
      outcome.status === 202 &&
      outcome.acceptedOrderId !== undefined &&
      outcome.acceptedOrderId !== outcome.orderId;
    if (outcome.status !== EXPECTED_ANSWER[outcome.kind] || wrongOrder) stats.errors++;
  }
  stats.errorRate = outcomes.length === 0 ? 0 : stats.errors / outcomes.length;
  return stats;
}
