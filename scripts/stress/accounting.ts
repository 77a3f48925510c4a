/**
 * The end-to-end accounting of a stress run, on plain data: what was sent and answered, and what
 * the tables and the bucket hold afterwards. It proves that nothing accepted was lost, nothing was
 * done twice, every failure was recorded, and each order's stores agree (see {@link checkOrder},
 * which the fault drills of `npm run drills` use too). Pure: the AWS reads live in observe.ts.
 *
 * An answer that does not say whether the order was taken (no answer at all, or a 5xx: the
 * publisher may have written the order before its start or its answer failed) is settled by
 * looking the order up by the `order_id` the request carried: found, it is accepted and held to
 * the same end as any accepted order; not found, it was not accepted. Every body of the stress mix
 * carries its `order_id` for that reason: for a body without one the publisher derives the id,
 * which the client cannot look up.
 */
import type { OrderStatus } from '../../lambdas/shared/runtime-contract';
import { TERMINAL_STATUSES, type ApiResponse } from '../lib/order-client';
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
  /**
   * The status a 202 reported: ACCEPTED for a new order, the order's current one for a replay
   * (COMPLETED, say). Any 202 accepts the order, whatever it reports.
   */
  acceptedStatus?: string;
  /** Why no answer came. */
  error?: string;
}

/**
 * The outcome of one sent request: its answer (a 202's `order_id` and reported status taken from
 * the body), or, when none came (`Error`), status 0 after `latencyMs`.
 */
export function requestOutcome(
  request: Pick<RequestOutcome, 'index' | 'kind' | 'orderId' | 'startedMs'>,
  answer: ApiResponse | { error: Error; latencyMs: number },
): RequestOutcome {
  if ('error' in answer) {
    return { ...request, latencyMs: answer.latencyMs, status: 0, error: answer.error.message };
  }
  const body = answer.body as { order_id?: unknown; status?: unknown } | null;
  const accepted = answer.status === 202;
  return {
    ...request,
    latencyMs: answer.latencyMs,
    status: answer.status,
    ...(accepted && typeof body?.order_id === 'string' ? { acceptedOrderId: body.order_id } : {}),
    ...(accepted && typeof body?.status === 'string' ? { acceptedStatus: body.status } : {}),
  };
}

/** An item of the orders table, as far as the accounting needs it. */
export interface OrderRow {
  order_id: string;
  status: OrderStatus;
  created_at?: string;
  updated_at?: string;
  /** SHA-256 of the body the order was accepted with. */
  body_hash?: string;
  /** The consumers' flags (absent = not set). */
  billed?: boolean;
  archived?: boolean;
}

/** An item of the billing table. */
export interface BillingRecord {
  order_id: string;
  /** The body the order was billed for. */
  body_hash?: string;
  billed_at?: string;
}

/** One version of an archive object (`orders/YYYY/MM/DD/<order_id>.json`), or a delete marker. */
export interface ArchiveVersion {
  order_id: string;
  key: string;
  versionId: string;
  /** A delete marker: archive took the object back (its flag write found the order ended). */
  deleteMarker?: boolean;
  /** Whether this is the key's current version (ListObjectVersions' IsLatest), when listed. */
  latest?: boolean;
}

/** A version or delete marker as ListObjectVersions lists it. */
interface ListedVersion {
  Key?: string;
  VersionId?: string;
  IsLatest?: boolean;
}

/**
 * The archive entries of one ListObjectVersions page, versions and delete markers, for the
 * orders `orderIdOf` names (undefined: not one of them).
 */
export function archiveEntries(
  page: { Versions?: readonly ListedVersion[]; DeleteMarkers?: readonly ListedVersion[] },
  orderIdOf: (key: string) => string | undefined,
): ArchiveVersion[] {
  const listed = [
    ...(page.Versions ?? []).map((entry) => ({ entry, deleteMarker: false })),
    ...(page.DeleteMarkers ?? []).map((entry) => ({ entry, deleteMarker: true })),
  ];
  return listed.flatMap(({ entry, deleteMarker }) => {
    const orderId = orderIdOf(entry.Key ?? '');
    if (orderId === undefined) return [];
    return [
      {
        order_id: orderId,
        key: entry.Key ?? '',
        versionId: entry.VersionId ?? 'null',
        ...(deleteMarker ? { deleteMarker } : {}),
        ...(entry.IsLatest === undefined ? {} : { latest: entry.IsLatest }),
      },
    ];
  });
}

/**
 * What one order's archive key holds, from its versions and delete markers. `current`: an object
 * is current (not never written, not taken back under a delete marker). `overwrites`: versions
 * that neither are current nor were taken back: archive writes only over no object or a marker
 * and lays one marker over each version it takes back, so in a run without overwrites every
 * version is current or followed by a marker (versions <= markers + current). Two markers over
 * one version (two stale withdrawals) can hide one overwrite; without the per-key order of
 * versions and markers, which ListObjectVersions gives in two lists, that is the limit. Listings
 * without IsLatest count every version as current and none as an overwrite.
 */
export function archiveHistory(entries: readonly ArchiveVersion[]): { current: boolean; overwrites: number } {
  const versions = entries.filter((entry) => !entry.deleteMarker);
  const markers = entries.length - versions.length;
  const listed = entries.some((entry) => entry.latest !== undefined);
  if (!listed) return { current: versions.length > 0, overwrites: Math.max(0, versions.length - 1) };
  const current = versions.some((entry) => entry.latest === true);
  return { current, overwrites: Math.max(0, versions.length - markers - (current ? 1 : 0)) };
}

/**
 * The archive objects one order has, as the checks count them: 0 when none is current, else 1 +
 * its overwrites ({@link archiveHistory}); above 1, a duplicate.
 */
export function archiveObjects(entries: readonly ArchiveVersion[]): number {
  return objectsOf(archiveHistory(entries));
}

/** {@link archiveObjects} of a history already worked out. */
function objectsOf({ current, overwrites }: { current: boolean; overwrites: number }): number {
  return current ? 1 + overwrites : 0;
}

/** An item of the failed-orders table. */
export interface FailedOrderRow {
  order_id: string;
  failure_id: string;
  source?: string;
  /** When the failure was recorded (ISO 8601). */
  failed_at?: string;
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

/** What the stores hold for one order. */
export interface OrderEvidence {
  orderId: string;
  /** Its orders-table item; undefined when there is none. */
  row: OrderRow | undefined;
  billing: readonly BillingRecord[];
  /** Its archive objects ({@link archiveObjects}). */
  archiveVersions: number;
  /** Versions written over another with no object taken back between ({@link archiveHistory}). */
  archiveOverwrites?: number;
  failedRows: number;
  /** The earliest `failed_at` of its failed-orders rows. */
  failedAt?: string;
}

/** What one accepted order's evidence says; every flag but `terminal` is a problem. */
export interface OrderVerdict {
  /** Its status, or `MISSING` when it has no item. */
  status: string;
  terminal: boolean;
  /** More than one billing record or archive object version. */
  duplicate: boolean;
  /** COMPLETED without its billing record or its archive object. */
  missingSideEffects: boolean;
  /** FAILED without a failed-orders row. */
  failedWithoutRecord: boolean;
  /** Where its stores disagree with each other, in words. */
  inconsistencies: string[];
}

/**
 * Judges one accepted order: terminal; COMPLETED with a billing record and an archive object
 * version; FAILED with its failed-orders row; the order's `billed` and `archived` flags set exactly
 * when its billing record and archive object exist; every billing record made for the order's own
 * body; a REJECTED order with neither; and no billing made after the order's failure was recorded.
 * Limits: the billing table holds one record per order (a second billing is refused by its
 * condition, not stored), so `duplicate` can only count archive versions there; the archive
 * object's body hash is checked by the consumer on every redelivery, not here; COMPLETED is judged
 * against every subscriber (no filter policy).
 */
export function checkOrder(evidence: OrderEvidence): OrderVerdict {
  const { row, billing, archiveVersions } = evidence;
  const status = row?.status ?? 'MISSING';
  const inconsistencies: string[] = [];
  for (const record of billing) {
    if (record.body_hash !== undefined && row?.body_hash !== undefined && record.body_hash !== row.body_hash)
      inconsistencies.push('billed for another body');
  }
  // The publisher writes both flags false with the order; a row read without them says nothing.
  if (typeof row?.billed === 'boolean') {
    if (row.billed && billing.length === 0) inconsistencies.push('marked billed without a billing record');
    if (!row.billed && billing.length > 0) inconsistencies.push('a billing record but not marked billed');
  }
  if (typeof row?.archived === 'boolean') {
    if (row.archived && archiveVersions === 0)
      inconsistencies.push('marked archived without an archive object');
    if (!row.archived && archiveVersions > 0)
      inconsistencies.push('an archive object but not marked archived');
  }
  if (status === 'REJECTED' && billing.length > 0) inconsistencies.push('billed though REJECTED');
  if (status === 'REJECTED' && archiveVersions > 0) inconsistencies.push('archived though REJECTED');
  if (status === 'FAILED' && evidence.failedAt !== undefined) {
    const failedAt = Date.parse(evidence.failedAt);
    if (billing.some((record) => Date.parse(record.billed_at ?? '') > failedAt))
      inconsistencies.push('billed after its failure was recorded');
  }
  return {
    status,
    terminal: isTerminal(status),
    duplicate: billing.length > 1 || archiveVersions > 1 || (evidence.archiveOverwrites ?? 0) > 0,
    missingSideEffects: status === 'COMPLETED' && (billing.length === 0 || archiveVersions === 0),
    failedWithoutRecord: status === 'FAILED' && evidence.failedRows === 0,
    inconsistencies,
  };
}

/** The accounting of a run. */
export interface Accounting {
  /**
   * Distinct accepted order ids: answered 202 (whatever status the answer reports: a replay's 202
   * carries the order's current one), or behind an ambiguous answer and found in the orders table.
   */
  accepted: number;
  /** Answers that did not say whether the order was taken, and what looking them up found. */
  ambiguous: {
    /** Answers with no status (timeout, refused or cut connection) or a 5xx. */
    answers: number;
    /** Distinct ids behind them that no 202 settled. */
    orders: number;
    /** Of those, found in the orders table: counted accepted. */
    accepted: number;
    /** Not found: not accepted. */
    notAccepted: number;
  };
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
  /** Accepted orders whose stores disagree ({@link OrderVerdict.inconsistencies}). */
  inconsistentOrders: Array<{ orderId: string; status: string; problems: string[] }>;
}

/**
 * Whether an answer leaves open if the order was taken: no answer (status 0) or a 5xx (the
 * publisher's 503 after its write, the load balancer's 502 for a function that died after it).
 */
export function isAmbiguous(status: number): boolean {
  return status === 0 || status >= 500;
}

/** Ids behind ambiguous answers that no 202 settled: the orders to look up. */
export function ambiguousOrderIds(outcomes: readonly RequestOutcome[]): string[] {
  const settled = new Set(outcomes.flatMap((outcome) => outcome.acceptedOrderId ?? []));
  return [
    ...new Set(
      outcomes
        .filter((outcome) => isAmbiguous(outcome.status) && !settled.has(outcome.orderId))
        .map((outcome) => outcome.orderId),
    ),
  ];
}

/**
 * The kind behind each accepted order id: every 202 (a replay's reports the order's current
 * status, ACCEPTED or not), and each ambiguous answer of a kind the publisher takes whose order
 * `stored` holds. A replay only counts when nothing else was accepted for the id.
 */
export function acceptedOrders(
  outcomes: readonly RequestOutcome[],
  stored: ReadonlyMap<string, unknown> = new Map(),
): Map<string, RequestKind> {
  const accepted = new Map<string, RequestKind>();
  const add = (orderId: string, kind: RequestKind) => {
    const known = accepted.get(orderId);
    if (known === undefined || known === 'replay') accepted.set(orderId, kind);
  };
  for (const outcome of outcomes) {
    if (outcome.status === 202 && outcome.acceptedOrderId !== undefined)
      add(outcome.acceptedOrderId, outcome.kind);
  }
  for (const outcome of outcomes) {
    if (
      isAmbiguous(outcome.status) &&
      EXPECTED_ANSWER[outcome.kind] === 202 &&
      !accepted.has(outcome.orderId) &&
      stored.has(outcome.orderId)
    )
      add(outcome.orderId, outcome.kind);
  }
  return accepted;
}

/**
 * Ids of requests that must have left nothing behind: answered 400 or 401, or an ambiguous answer
 * to a request the publisher must refuse (a bad signature, a schema-invalid body).
 */
export function refusedOrderIds(outcomes: readonly RequestOutcome[]): string[] {
  const accepted = acceptedOrders(outcomes);
  const refused = new Set<string>();
  for (const outcome of outcomes) {
    const refusal =
      outcome.status === 400 ||
      outcome.status === 401 ||
      (isAmbiguous(outcome.status) && EXPECTED_ANSWER[outcome.kind] !== 202);
    if (refusal && !accepted.has(outcome.orderId)) refused.add(outcome.orderId);
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
  const accepted = acceptedOrders(outcomes, observed.orders);
  const billing = new Map<string, BillingRecord[]>();
  for (const record of observed.billing)
    billing.set(record.order_id, [...(billing.get(record.order_id) ?? []), record]);
  // A version id is unique per object version; counting distinct ones keeps a listing that
  // overlapped two pages from looking like a duplicate.
  const byOrder = new Map<string, ArchiveVersion[]>();
  for (const version of new Map(
    observed.archive.map((entry) => [`${entry.key}#${entry.versionId}`, entry]),
  ).values())
    byOrder.set(version.order_id, [...(byOrder.get(version.order_id) ?? []), version]);
  const histories = new Map([...byOrder].map(([orderId, entries]) => [orderId, archiveHistory(entries)]));
  const failedRows = countBy(observed.failed, (row) => row.order_id);
  const firstFailure = new Map<string, string>();
  for (const row of observed.failed) {
    const known = firstFailure.get(row.order_id);
    if (row.failed_at !== undefined && (known === undefined || row.failed_at < known))
      firstFailure.set(row.order_id, row.failed_at);
  }
  const sideEffects = (orderId: string): OrderSideEffects => ({
    orderId,
    billingRecords: billing.get(orderId)?.length ?? 0,
    archiveVersions: objectsOf(histories.get(orderId) ?? { current: false, overwrites: 0 }),
  });
  const ambiguousIds = ambiguousOrderIds(outcomes);
  const ambiguousAccepted = ambiguousIds.filter((orderId) => accepted.has(orderId)).length;

  const result: Accounting = {
    accepted: accepted.size,
    ambiguous: {
      answers: outcomes.filter((outcome) => isAmbiguous(outcome.status)).length,
      orders: ambiguousIds.length,
      accepted: ambiguousAccepted,
      notAccepted: ambiguousIds.length - ambiguousAccepted,
    },
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
    inconsistentOrders: [],
  };
  for (const [orderId, kind] of [...accepted].sort(([a], [b]) => a.localeCompare(b))) {
    const effects = sideEffects(orderId);
    const verdict = checkOrder({
      orderId,
      row: observed.orders.get(orderId),
      billing: billing.get(orderId) ?? [],
      archiveVersions: effects.archiveVersions,
      archiveOverwrites: histories.get(orderId)?.overwrites ?? 0,
      failedRows: failedRows.get(orderId) ?? 0,
      ...(firstFailure.has(orderId) ? { failedAt: firstFailure.get(orderId) } : {}),
    });
    const { status } = verdict;
    result.statuses[status] = (result.statuses[status] ?? 0) + 1;
    if (verdict.duplicate) result.duplicateOrders.push(effects);
    if (verdict.inconsistencies.length > 0)
      result.inconsistentOrders.push({ orderId, status, problems: verdict.inconsistencies });
    if (!verdict.terminal) {
      result.lostOrders.push({ orderId, status });
      continue;
    }
    result.terminal++;
    if (!FITTING_OUTCOMES[kind].includes(status)) result.unexpectedOutcomes.push({ orderId, kind, status });
    if (status === 'COMPLETED') {
      result.completed++;
      if (verdict.missingSideEffects) result.completedWithoutSideEffects.push(effects);
    } else if (status === 'REJECTED') {
      result.rejected++;
    } else {
      result.failed++;
      if (verdict.failedWithoutRecord) result.failedWithoutRecord.push(orderId);
      else result.failedRecorded++;
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
