import {
  account,
  acceptedOrders,
  archiveHistory,
  archiveObjects,
  ambiguousOrderIds,
  checkOrder,
  isAmbiguous,
  refusedOrderIds,
  requestOutcome,
  requestStats,
  type Observations,
  type OrderRow,
  type RequestOutcome,
} from './accounting';
import type { RequestKind } from './mix';

let nextIndex = 0;
function outcome(
  kind: RequestKind,
  orderId: string,
  status: number,
  accepted = status === 202,
): RequestOutcome {
  return {
    index: nextIndex++,
    kind,
    orderId,
    startedMs: 0,
    latencyMs: 10,
    status,
    ...(accepted ? { acceptedOrderId: orderId } : {}),
  };
}

function row(orderId: string, status: OrderRow['status']): [string, OrderRow] {
  return [orderId, { order_id: orderId, status, created_at: '2026-01-01T00:00:00.000Z' }];
}

/** A clean run: two valid orders completed once each, one rejected, one failed and recorded. */
function cleanRun(): { outcomes: RequestOutcome[]; observed: Observations } {
  const outcomes = [
    outcome('valid', 'o-1', 202),
    outcome('valid', 'o-2', 202),
    outcome('replay', 'o-1', 202),
    outcome('businessReject', 'o-3', 202),
    outcome('valid', 'o-4', 202),
    outcome('schemaInvalid', 'o-5', 400),
    outcome('badSignature', 'o-6', 401),
  ];
  const observed: Observations = {
    orders: new Map([
      row('o-1', 'COMPLETED'),
      row('o-2', 'COMPLETED'),
      row('o-3', 'REJECTED'),
      row('o-4', 'FAILED'),
    ]),
    billing: [{ order_id: 'o-1' }, { order_id: 'o-2' }],
    archive: [
      { order_id: 'o-1', key: 'orders/2026/01/01/o-1.json', versionId: 'v1' },
      { order_id: 'o-2', key: 'orders/2026/01/01/o-2.json', versionId: 'v1' },
      { order_id: 'o-4', key: 'orders/2026/01/01/o-4.json', versionId: 'v1' },
    ],
    failed: [{ order_id: 'o-4', failure_id: 'billing-dlq#m-1', source: 'billing-dlq' }],
  };
  return { outcomes, observed };
}

describe('account', () => {
  it('balances a clean run: every accepted order terminal, once, failures recorded', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    // Act
    const result = account(outcomes, observed);
    // Assess
    expect(result).toMatchObject({
      accepted: 4,
      terminal: 4,
      completed: 2,
      rejected: 1,
      failed: 1,
      failedRecorded: 1,
      lost: 0,
      duplicates: 0,
      failedWithoutRecord: [],
      completedWithoutSideEffects: [],
      unexpectedOutcomes: [],
      refusedButStored: [],
    });
    expect(result.statuses).toEqual({ COMPLETED: 2, REJECTED: 1, FAILED: 1 });
  });

  it('catches a lost order: accepted but still PUBLISHED, and one with no item at all', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    outcomes.push(outcome('valid', 'o-7', 202), outcome('valid', 'o-8', 202));
    const orders = new Map(observed.orders);
    orders.set(...row('o-7', 'PUBLISHED'));
    // Act
    const result = account(outcomes, { ...observed, orders });
    // Assess
    expect(result.accepted).toBe(6);
    expect(result.terminal).toBe(4);
    expect(result.lost).toBe(2);
    expect(result.lostOrders).toEqual([
      { orderId: 'o-7', status: 'PUBLISHED' },
      { orderId: 'o-8', status: 'MISSING' },
    ]);
    expect(result.statuses).toMatchObject({ PUBLISHED: 1, MISSING: 1 });
  });

  it('catches a duplicate billing record', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    // Act
    const result = account(outcomes, { ...observed, billing: [...observed.billing, { order_id: 'o-2' }] });
    // Assess
    expect(result.duplicates).toBe(1);
    expect(result.duplicateOrders).toEqual([{ orderId: 'o-2', billingRecords: 2, archiveVersions: 1 }]);
  });

  it('catches a duplicate archive object version, but not the same version listed twice', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    const again = { order_id: 'o-1', key: 'orders/2026/01/01/o-1.json', versionId: 'v1' };
    const second = { order_id: 'o-1', key: 'orders/2026/01/01/o-1.json', versionId: 'v2' };
    // Act
    const listedTwice = account(outcomes, { ...observed, archive: [...observed.archive, again] });
    const twoVersions = account(outcomes, { ...observed, archive: [...observed.archive, second] });
    // Assess
    expect(listedTwice.duplicates).toBe(0);
    expect(twoVersions.duplicates).toBe(1);
    expect(twoVersions.duplicateOrders).toEqual([{ orderId: 'o-1', billingRecords: 1, archiveVersions: 2 }]);
  });

  it('counts an archive object taken back (a delete marker over it) as none, and one put back after as one', () => {
    // Prepare
    const key = 'orders/2026/01/01/o-1.json';
    const v1 = { order_id: 'o-1', key, versionId: 'v1', latest: false };
    const marker = { order_id: 'o-1', key, versionId: 'm1', deleteMarker: true };

    // Act / Assess
    expect(archiveObjects([v1, { ...marker, latest: true }])).toBe(0);
    expect(archiveObjects([v1, { ...marker, latest: false }, { ...v1, versionId: 'v2', latest: true }])).toBe(
      1,
    );
    // Two stale withdrawals over one version, then a redrive's object
    expect(
      archiveObjects([v1, marker, { ...marker, versionId: 'm2' }, { ...v1, versionId: 'v2', latest: true }]),
    ).toBe(1);
    // An overwrite: two versions with no marker between, current or taken back after
    expect(archiveObjects([v1, { ...v1, versionId: 'v2', latest: true }])).toBe(2);
    expect(archiveHistory([v1, { ...v1, versionId: 'v2' }, { ...marker, latest: true }])).toEqual({
      current: false,
      overwrites: 1,
    });
    // A listing without IsLatest counts every version
    expect(archiveObjects([{ order_id: 'o-1', key, versionId: 'v1' }])).toBe(1);
  });

  it('catches an overwritten archive object even when it was taken back after', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    const key = 'orders/2026/01/01/o-1.json';
    const archive = [
      ...observed.archive.filter((version) => version.order_id !== 'o-1'),
      { order_id: 'o-1', key, versionId: 'v1', latest: false },
      { order_id: 'o-1', key, versionId: 'v2', latest: false },
      { order_id: 'o-1', key, versionId: 'm1', deleteMarker: true, latest: true },
    ];

    // Act
    const result = account(outcomes, { ...observed, archive });

    // Assess
    expect(result.duplicates).toBe(1);
  });

  it('catches an order FAILED without a failed-orders row', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    // Act
    const result = account(outcomes, { ...observed, failed: [] });
    // Assess
    expect(result.failed).toBe(1);
    expect(result.failedRecorded).toBe(0);
    expect(result.failedWithoutRecord).toEqual(['o-4']);
  });

  it('catches a COMPLETED order missing its billing record', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    // Act
    const result = account(outcomes, { ...observed, billing: [{ order_id: 'o-1' }] });
    // Assess
    expect(result.completedWithoutSideEffects).toEqual([
      { orderId: 'o-2', billingRecords: 0, archiveVersions: 1 },
    ]);
  });

  it('catches outcomes that do not fit the kind: a valid order REJECTED, a business-invalid one COMPLETED', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    const orders = new Map(observed.orders);
    orders.set(...row('o-2', 'REJECTED'));
    orders.set(...row('o-3', 'COMPLETED'));
    // Act
    const result = account(outcomes, { ...observed, orders });
    // Assess
    expect(result.unexpectedOutcomes).toEqual([
      { orderId: 'o-2', kind: 'valid', status: 'REJECTED' },
      { orderId: 'o-3', kind: 'businessReject', status: 'COMPLETED' },
    ]);
  });

  it('lists an order whose billing record was made for another body', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    const orders = new Map(observed.orders);
    orders.set('o-1', { ...row('o-1', 'COMPLETED')[1], body_hash: 'h-1' });
    // Act
    const result = account(outcomes, {
      ...observed,
      orders,
      billing: [{ order_id: 'o-1', body_hash: 'h-2' }, { order_id: 'o-2' }],
    });
    // Assess
    expect(result.inconsistentOrders).toEqual([
      { orderId: 'o-1', status: 'COMPLETED', problems: ['billed for another body'] },
    ]);
  });

  it('catches a refused request that left an order behind', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    const orders = new Map(observed.orders);
    orders.set(...row('o-6', 'ACCEPTED'));
    // Act
    const result = account(outcomes, { ...observed, orders });
    // Assess
    expect(result.refusedButStored).toEqual(['o-6']);
    expect(result.lost).toBe(0);
  });
});

describe('account, ambiguous answers', () => {
  it('counts an ambiguous answer whose order exists as accepted, and holds it to a terminal end', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    outcomes.push(outcome('valid', 'o-7', 503), outcome('valid', 'o-8', 0));
    const orders = new Map(observed.orders);
    orders.set(...row('o-7', 'COMPLETED'));
    orders.set(...row('o-8', 'ACCEPTED'));
    const billing = [...observed.billing, { order_id: 'o-7' }];
    const archive = [
      ...observed.archive,
      { order_id: 'o-7', key: 'orders/2026/01/01/o-7.json', versionId: 'v1' },
    ];
    // Act
    const result = account(outcomes, { ...observed, orders, billing, archive });
    // Assess
    expect(result.accepted).toBe(6);
    expect(result.ambiguous).toEqual({ answers: 2, orders: 2, accepted: 2, notAccepted: 0 });
    expect(result.completed).toBe(3);
    expect(result.lostOrders).toEqual([{ orderId: 'o-8', status: 'ACCEPTED' }]);
    expect(result.unexpectedOutcomes).toEqual([]);
  });

  it('does not count an ambiguous answer whose order does not exist', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    outcomes.push(outcome('valid', 'o-7', 503), outcome('businessReject', 'o-8', 504));
    // Act
    const result = account(outcomes, observed);
    // Assess
    expect(result.accepted).toBe(4);
    expect(result.ambiguous).toEqual({ answers: 2, orders: 2, accepted: 0, notAccepted: 2 });
    expect(result.lost).toBe(0);
  });

  it("accepts a replay's 202 that reports COMPLETED, after its original's answer was lost", () => {
    // Prepare
    const outcomes = [
      outcome('valid', 'o-1', 0),
      { ...outcome('replay', 'o-1', 202), acceptedStatus: 'COMPLETED' },
    ];
    const observed: Observations = {
      orders: new Map([row('o-1', 'COMPLETED')]),
      billing: [{ order_id: 'o-1' }],
      archive: [{ order_id: 'o-1', key: 'orders/2026/01/01/o-1.json', versionId: 'v1' }],
      failed: [],
    };
    // Act
    const result = account(outcomes, observed);
    // Assess
    expect(result).toMatchObject({ accepted: 1, completed: 1, lost: 0, unexpectedOutcomes: [] });
    // A 202 settles the id: the lost answer before it is no open question.
    expect(result.ambiguous).toEqual({ answers: 1, orders: 0, accepted: 0, notAccepted: 0 });
    expect([...acceptedOrders(outcomes)]).toEqual([['o-1', 'replay']]);
  });

  it('holds an ambiguous answer to a request that must be refused to leaving nothing behind', () => {
    // Prepare
    const { outcomes, observed } = cleanRun();
    outcomes.push(outcome('badSignature', 'o-9', 503));
    const orders = new Map(observed.orders);
    orders.set(...row('o-9', 'ACCEPTED'));
    // Act
    const result = account(outcomes, { ...observed, orders });
    // Assess
    expect(result.accepted).toBe(4);
    expect(result.refusedButStored).toEqual(['o-9']);
  });

  it('calls no answer and every 5xx ambiguous, and no 2xx or 4xx', () => {
    // Act / Assess
    expect([0, 500, 502, 503, 504].every(isAmbiguous)).toBe(true);
    expect([202, 400, 401, 409, 413].some(isAmbiguous)).toBe(false);
    expect(
      ambiguousOrderIds([
        outcome('valid', 'o-1', 503),
        outcome('valid', 'o-1', 202),
        outcome('valid', 'o-2', 0),
      ]),
    ).toEqual(['o-2']);
  });
});

describe('requestOutcome', () => {
  const sent = { index: 3, kind: 'replay' as const, orderId: 'o-1', startedMs: 10 };

  it("takes a 202's order id and the status it reports; another answer has neither", () => {
    // Act
    const replay = requestOutcome(sent, {
      status: 202,
      body: { order_id: 'o-1', status: 'COMPLETED' },
      headers: new Headers(),
      latencyMs: 7,
    });
    const refused = requestOutcome(sent, {
      status: 401,
      body: { error: 'unauthorized' },
      headers: new Headers(),
      latencyMs: 2,
    });
    // Assess
    expect(replay).toEqual({
      ...sent,
      latencyMs: 7,
      status: 202,
      acceptedOrderId: 'o-1',
      acceptedStatus: 'COMPLETED',
    });
    expect(refused).toEqual({ ...sent, latencyMs: 2, status: 401 });
  });

  it('records no answer as status 0 with the error', () => {
    // Act / Assess
    expect(requestOutcome(sent, { error: new Error('socket hang up'), latencyMs: 5000 })).toEqual({
      ...sent,
      latencyMs: 5000,
      status: 0,
      error: 'socket hang up',
    });
  });
});

describe('checkOrder', () => {
  const evidence = (
    status: OrderRow['status'],
    billing: Array<{ body_hash?: string; billed_at?: string }>,
    { archiveVersions = status === 'COMPLETED' ? 1 : 0, flags = true } = {},
  ) => ({
    orderId: 'o-1',
    row: {
      order_id: 'o-1',
      status,
      body_hash: 'h-1',
      updated_at: '2026-01-01T00:00:10.000Z',
      // The flags as the consumers leave them: set with their side effect.
      ...(flags ? { billed: billing.length > 0, archived: archiveVersions > 0 } : {}),
    },
    billing: billing.map((record) => ({ order_id: 'o-1', ...record })),
    archiveVersions,
    failedRows: status === 'FAILED' ? 1 : 0,
    ...(status === 'FAILED' ? { failedAt: '2026-01-01T00:00:10.000Z' } : {}),
  });

  it('passes a COMPLETED order with one billing record for its body and one archive version', () => {
    // Act
    const verdict = checkOrder(
      evidence('COMPLETED', [{ body_hash: 'h-1', billed_at: '2026-01-01T00:00:05.000Z' }]),
    );
    // Assess
    expect(verdict).toEqual({
      status: 'COMPLETED',
      terminal: true,
      duplicate: false,
      missingSideEffects: false,
      failedWithoutRecord: false,
      inconsistencies: [],
    });
  });

  it('catches a billing record made for another body', () => {
    // Act / Assess
    expect(checkOrder(evidence('COMPLETED', [{ body_hash: 'h-other' }])).inconsistencies).toEqual([
      'billed for another body',
    ]);
  });

  it('allows a FAILED order billed before it failed, not one billed after', () => {
    // Act
    const before = checkOrder(
      evidence('FAILED', [{ body_hash: 'h-1', billed_at: '2026-01-01T00:00:05.000Z' }]),
    );
    const after = checkOrder(
      evidence('FAILED', [{ body_hash: 'h-1', billed_at: '2026-01-01T00:00:11.000Z' }]),
    );
    // Assess
    expect(before.inconsistencies).toEqual([]);
    expect(after.inconsistencies).toEqual(['billed after its failure was recorded']);
  });

  it('catches flags that disagree with the stores: marked without the side effect, or the side effect unmarked', () => {
    // Prepare
    const billedUnmarked = evidence('COMPLETED', [{ body_hash: 'h-1' }]);
    billedUnmarked.row.billed = false;
    const archivedWithoutObject = evidence('FAILED', [], { archiveVersions: 0 });
    archivedWithoutObject.row.archived = true;
    // Act / Assess
    expect(checkOrder(billedUnmarked).inconsistencies).toEqual(['a billing record but not marked billed']);
    expect(checkOrder(archivedWithoutObject).inconsistencies).toEqual([
      'marked archived without an archive object',
    ]);
    const objectUnmarked = evidence('FAILED', [], { archiveVersions: 1 });
    objectUnmarked.row.archived = false;
    expect(checkOrder(objectUnmarked).inconsistencies).toEqual(['an archive object but not marked archived']);
    // A row read without its flags says nothing about them.
    expect(checkOrder(evidence('FAILED', [], { archiveVersions: 1, flags: false })).inconsistencies).toEqual(
      [],
    );
  });

  it('catches a REJECTED order with an archive object', () => {
    // Act / Assess
    expect(checkOrder(evidence('REJECTED', [], { archiveVersions: 1 })).inconsistencies).toEqual([
      'archived though REJECTED',
    ]);
  });

  it('catches a REJECTED order with a billing record, and a missing order as not terminal', () => {
    // Act
    const rejected = checkOrder(evidence('REJECTED', [{ body_hash: 'h-1' }]));
    const missing = checkOrder({
      orderId: 'o-2',
      row: undefined,
      billing: [],
      archiveVersions: 0,
      failedRows: 0,
    });
    // Assess
    expect(rejected.inconsistencies).toEqual(['billed though REJECTED']);
    expect(missing).toMatchObject({ status: 'MISSING', terminal: false });
  });
});

describe('acceptedOrders and refusedOrderIds', () => {
  it('counts a replayed order once, under the kind of its original', () => {
    // Prepare
    const outcomes = [
      outcome('replay', 'o-1', 202),
      outcome('valid', 'o-1', 202),
      outcome('replay', 'o-1', 202),
    ];
    // Act
    const accepted = acceptedOrders(outcomes);
    // Assess
    expect([...accepted]).toEqual([['o-1', 'valid']]);
  });

  it('lists the ids of 400 and 401 answers that were never accepted', () => {
    // Prepare
    const outcomes = [
      outcome('schemaInvalid', 'o-5', 400),
      outcome('badSignature', 'o-6', 401),
      outcome('badSignature', 'o-1', 401),
      outcome('valid', 'o-1', 202),
      outcome('valid', 'o-9', 503),
    ];
    // Act / Assess
    expect(refusedOrderIds(outcomes).sort()).toEqual(['o-5', 'o-6']);
  });
});

describe('requestStats', () => {
  it('counts answers per code and kind, errors against the kind, unexpected codes against the profile', () => {
    // Prepare
    const outcomes = [
      outcome('valid', 'o-1', 202),
      outcome('valid', 'o-2', 503),
      outcome('badSignature', 'o-3', 401),
      outcome('schemaInvalid', 'o-4', 202),
      outcome('valid', 'o-5', 0),
    ];
    // Act
    const stats = requestStats(outcomes, [202, 400, 401, 409]);
    // Assess
    expect(stats.sent).toBe(5);
    expect(stats.byStatus).toEqual({ '0': 1, '202': 2, '401': 1, '503': 1 });
    expect(stats.byKind).toEqual({ valid: 3, badSignature: 1, schemaInvalid: 1 });
    expect(stats.errors).toBe(3);
    expect(stats.errorRate).toBeCloseTo(0.6);
    expect(stats.unexpectedStatusCodes).toEqual({ '0': 1, '503': 1 });
  });

  it('counts a 202 that names another order as an error', () => {
    // Prepare
    const replay = { ...outcome('replay', 'o-1', 202), acceptedOrderId: 'o-other' };
    // Act / Assess
    expect(requestStats([replay], [202]).errors).toBe(1);
  });
});
