/**
 * Deterministic interleaving tests (issue #16, item 5): each case of the issue, stepped through
 * the product's own code on moto_server: the publisher core with the real orders repository and
 * Step Functions starter, the synthesized workflow's ASL (its conditional writes as synthesized,
 * not re-typed), the billing ledger's transaction, archive's conditional put, the DLQ handler.
 * The fakes only decide when a call happens and what its caller hears (test/e2e/interleavings-harness.ts):
 * a call that succeeds on AWS but fails for the caller, a concurrent retry, a Lambda dying between
 * two lines. Interleavings are sequenced with checkpoints and a test clock; nothing sleeps.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DependencyUnavailableError, OrderMismatchError } from '../../lambdas/shared/errors';
import { LIFECYCLE, METRICS, orderKey, type OrderPlacedEvent } from '../../lambdas/shared/runtime-contract';
import { NOW, orderBody, signedRequest } from '../../lambdas/testing/fixtures';
import {
  BILLED_MARKET,
  Checkpoint,
  CLIENT_ID,
  heldAt,
  lambdaTimedOut,
  lostReply,
  publisherDies,
  settled,
  starts,
  startsButReplyLost,
  startPipeline,
  throttled,
  type Pipeline,
  type Scenario,
  type WorkflowRun,
} from './interleavings-harness';

jest.setTimeout(60_000);

/** 64 hex digits that are no request body's hash here: "another body of the same order id". */
const OTHER_BODY_HASH = 'b'.repeat(64);

let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline();
}, 180_000);

afterAll(async () => {
  await pipeline?.stop();
});

const submit = (orderId: string, overrides: Record<string, unknown> = {}) =>
  signedRequest({ body: JSON.stringify(orderBody({ order_id: orderId, ...overrides })) });
const read = (orderId: string) => signedRequest({ method: 'GET', path: `/orders/${orderId}`, body: '' });
const keyOf = (orderId: string) => orderKey(CLIENT_ID, orderId);
const json = (body: string): unknown => JSON.parse(body);

function only<T>(items: readonly T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected one ${what}, found ${items.length}`);
  return items[0] as T;
}

/** The one run the publisher started. */
const onlyRun = (scenario: Scenario) => only(scenario.stepFunctions.runs, 'run');

/** Waits for a run to end and returns the one event it published. */
async function publishedBy(run: WorkflowRun): Promise<OrderPlacedEvent> {
  await run.outcome;
  return only(run.published, 'published event');
}

/** Hands the run's event to billing and archive, as the fan-out would once the run published it. */
async function fanOut(scenario: Scenario, run: WorkflowRun): Promise<void> {
  const event = await publishedBy(run);
  await scenario.billing().deliver(event);
  await scenario.archive().deliver(event);
}

/** Submits an order whose run goes as `run` says, and returns that run once the 202 is in. */
async function accepted(
  scenario: Scenario,
  orderId: string,
  run = starts(),
  overrides: Record<string, unknown> = {},
): Promise<WorkflowRun> {
  const before = scenario.stepFunctions.runs.length;
  scenario.stepFunctions.next(run);
  const answer = await scenario.send(submit(orderId, overrides));
  expect(answer.statusCode).toBe(202);
  return only(scenario.stepFunctions.runs.slice(before), 'run');
}

describe('case 1: 202 then 404', () => {
  it('case 1: a retry racing a slow start answers 202, and the order keeps existing and gets a run', async () => {
    // Arrange: request 1's StartExecution is slow, then throttled
    const scenario = pipeline.scenario();
    const slowStart = new Checkpoint();
    scenario.stepFunctions.next(heldAt(slowStart, throttled()));
    const request = submit('case-1');

    // Act: request 2 (verbatim) while request 1 is starting; then request 1 gives up
    const first = scenario.send(request);
    await slowStart.reached;
    const second = await scenario.send(request);
    const callsWhileFirstStarts = scenario.stepFunctions.calls.length;
    slowStart.release();
    const firstAnswer = await first;
    const lookup = await scenario.send(read('case-1'));
    // The client retries its 503 (without a retry, the reconciler restarts it: not tested here).
    const clientRetry = await scenario.send(request);
    await fanOut(scenario, onlyRun(scenario));

    // Assess
    expect(second.statusCode).toBe(202);
    expect(json(second.body)).toEqual({ order_id: 'case-1', status: 'ACCEPTED' });
    expect(firstAnswer.statusCode).toBe(503);
    expect(lookup.statusCode).toBe(200);
    expect(json(lookup.body)).toMatchObject({ order_id: 'case-1', status: 'ACCEPTED' });
    expect(clientRetry.statusCode).toBe(202);
    // Request 2 started nothing while request 1 held the claim; the client's retry did.
    expect(callsWhileFirstStarts).toBe(1);
    expect(scenario.stepFunctions.calls).toHaveLength(2);
    expect(await pipeline.order(keyOf('case-1'))).toMatchObject({
      status: 'COMPLETED',
      billed: true,
      archived: true,
    });
  });
});

/**
 * `started_at` of an order whose publisher released its claim: back by the claim's length from
 * the claim made at its creation (a retry may claim at once; the reconciler still waits).
 */
function releasedClaim(order: Record<string, unknown> | undefined): number {
  return Date.parse(String(order?.created_at)) - pipeline.restartAfterMs - 1;
}

describe('case 2: orphans and body drift', () => {
  it('case 2: a start that reaches AWS but fails for the caller answers 503; the order stays and that run completes it', async () => {
    // Arrange: the run starts, its reply is lost; the run is held so the order is seen before it moves
    const scenario = pipeline.scenario();
    const stored = new Checkpoint();
    scenario.stepFunctions.next(startsButReplyLost({ pauseBefore: { StoreOrder: stored } }));

    // Act
    const answer = await scenario.send(submit('case-2-orphan'));
    const afterAnswer = await pipeline.order(keyOf('case-2-orphan'));
    stored.release();
    const outcome = await onlyRun(scenario).outcome;
    await fanOut(scenario, onlyRun(scenario));
    const replay = await scenario.send(submit('case-2-orphan'));

    // Assess
    expect(answer.statusCode).toBe(503);
    expect(afterAnswer).toMatchObject({
      status: 'ACCEPTED',
      [LIFECYCLE.startedAt]: releasedClaim(afterAnswer),
    });
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', states: expect.arrayContaining(['Published']) });
    expect(await pipeline.order(keyOf('case-2-orphan'))).toMatchObject({ status: 'COMPLETED' });
    expect(replay.statusCode).toBe(202);
    expect(json(replay.body)).toEqual({ order_id: 'case-2-orphan', status: 'COMPLETED' });
    expect(scenario.stepFunctions.calls).toHaveLength(1);
  });

  it('case 2: a retry with a changed body and the same order id gets 409 and starts nothing, before and after the order completes', async () => {
    // Arrange: the first body's start fails for the caller, so the client may well resend
    const scenario = pipeline.scenario();
    scenario.stepFunctions.next(startsButReplyLost());
    const firstAnswer = await scenario.send(submit('case-2-changed'));
    const run = onlyRun(scenario);
    const changed = submit('case-2-changed', { customer_id: 'cust-2' });

    // Act
    const whileRunning = await scenario.send(changed);
    await fanOut(scenario, run);
    const afterCompletion = await scenario.send(changed);

    // Assess
    expect(firstAnswer.statusCode).toBe(503);
    expect(whileRunning.statusCode).toBe(409);
    expect(afterCompletion.statusCode).toBe(409);
    expect(scenario.stepFunctions.calls).toHaveLength(1);
    expect(await pipeline.order(keyOf('case-2-changed'))).toMatchObject({
      status: 'COMPLETED',
      body_hash: run.input.order.body_hash,
    });
  });

  it('case 2: a run for another body of the order id neither stores nor publishes it', async () => {
    // Arrange: the order is ACCEPTED (its own run held before StoreOrder)
    const scenario = pipeline.scenario();
    const stored = new Checkpoint();
    const run = await accepted(scenario, 'case-2-drift', starts({ pauseBefore: { StoreOrder: stored } }));
    await stored.reached;
    const drifted = { order: { ...run.input.order, customer_id: 'cust-2', body_hash: OTHER_BODY_HASH } };

    // Act
    const driftRun = pipeline.workflow.start(drifted, `${run.name}-drift`);
    const outcome = await driftRun.outcome;
    stored.release();
    await fanOut(scenario, run);

    // Assess
    expect(outcome.states).toEqual(['Validate', 'IsValid', 'StoreOrder', 'AlreadyDone']);
    expect(driftRun.published).toEqual([]);
    expect(await pipeline.order(keyOf('case-2-drift'))).toMatchObject({
      status: 'COMPLETED',
      body_hash: run.input.order.body_hash,
    });
  });

  it('case 2: a billing transaction that commits but fails for the caller is finished by the redelivery: one record, billed once', async () => {
    // Arrange
    const scenario = pipeline.scenario();
    const event = await publishedBy(await accepted(scenario, 'case-2-lost-commit'));
    const lossy = scenario.billing({
      intercept: async (command, send) => {
        const result = await send();
        if (command instanceof TransactWriteCommand) throw lostReply();
        return result;
      },
    });
    const redelivery = scenario.billing();

    // Act
    const firstDelivery = lossy.deliver(event);
    await expect(firstDelivery).rejects.toThrow(DependencyUnavailableError);
    await redelivery.deliver(event);
    await scenario.archive().deliver(event);

    // Assess
    expect(await pipeline.billingRecord(keyOf('case-2-lost-commit'))).toMatchObject({
      body_hash: event.order.body_hash,
      amount: event.order.total_amount,
    });
    // The redelivery found the record its lost commit made: "billed already", not billed again.
    expect(redelivery.count(METRICS.ordersBilled)).toBe(0);
    expect(await pipeline.order(keyOf('case-2-lost-commit'))).toMatchObject({
      status: 'COMPLETED',
      billed: true,
    });
  });

  it('case 2: a billing record made for another body is an error, not "already billed"', async () => {
    // Arrange: a record of another body under this order's key
    const scenario = pipeline.scenario();
    const event = await publishedBy(await accepted(scenario, 'case-2-billed-elsewhere'));
    await pipeline.putBillingRecord({
      order_key: keyOf('case-2-billed-elsewhere'),
      order_id: 'case-2-billed-elsewhere',
      client_id: CLIENT_ID,
      customer_id: 'cust-2',
      amount: 1,
      currency: 'USD',
      body_hash: OTHER_BODY_HASH,
      billed_at: '2026-01-01T00:00:00.000Z',
    });

    // Act
    const delivery = scenario.billing().deliver(event);

    // Assess
    await expect(delivery).rejects.toThrow(OrderMismatchError);
    expect(await pipeline.billingRecord(keyOf('case-2-billed-elsewhere'))).toMatchObject({
      body_hash: OTHER_BODY_HASH,
    });
    expect(await pipeline.order(keyOf('case-2-billed-elsewhere'))).toMatchObject({
      status: 'PUBLISHED',
      billed: false,
    });
  });

  it('case 2: an archive object written for another body is an error, not "already archived"', async () => {
    // Arrange: an object of another body at this order's archive key
    const scenario = pipeline.scenario();
    const event = await publishedBy(await accepted(scenario, 'case-2-archived-elsewhere'));
    await pipeline.putArchiveObject(event.order, OTHER_BODY_HASH);

    // Act
    const delivery = scenario.archive().deliver(event);

    // Assess
    await expect(delivery).rejects.toThrow(OrderMismatchError);
    expect(await pipeline.archiveObjects(event.order)).toBe(1);
    expect(await pipeline.order(keyOf('case-2-archived-elsewhere'))).toMatchObject({
      status: 'PUBLISHED',
      archived: false,
    });
  });
});

describe('case 3: COMPLETED with a flag false', () => {
  it('case 3: archive finishing before billing does not complete the order; billing, seeing both flags, does', async () => {
    // Arrange
    const scenario = pipeline.scenario();
    const event = await publishedBy(await accepted(scenario, 'case-3-archive-first'));
    const archive = scenario.archive();
    const billing = scenario.billing();

    // Act
    await archive.deliver(event);
    const archivedOnly = await pipeline.order(keyOf('case-3-archive-first'));
    await billing.deliver(event);

    // Assess
    expect(archivedOnly).toMatchObject({ status: 'PUBLISHED', archived: true, billed: false });
    expect(archive.count(METRICS.ordersCompleted)).toBe(0);
    expect(billing.count(METRICS.ordersCompleted)).toBe(1);
    expect(await pipeline.order(keyOf('case-3-archive-first'))).toMatchObject({
      status: 'COMPLETED',
      archived: true,
      billed: true,
    });
  });

  it('case 3: billing dying right after its transaction leaves nothing to finish: that transaction completed the order; the redelivery bills nothing', async () => {
    // Arrange: archived already; billing's Lambda dies on the line after its transaction commits
    const scenario = pipeline.scenario();
    const event = await publishedBy(await accepted(scenario, 'case-3-billing-died'));
    await scenario.archive().deliver(event);
    const died = new Checkpoint();
    const dying = scenario.billing({
      intercept: async (command, send) => {
        const result = await send();
        if (command instanceof TransactWriteCommand) await died.pass();
        return result;
      },
    });

    // Act
    void dying.deliver(event);
    await died.reached;
    const afterDeath = await pipeline.order(keyOf('case-3-billing-died'));
    const redelivery = scenario.billing();
    await redelivery.deliver(event);

    // Assess: no step between the flag and COMPLETED for a death to fall into
    expect(afterDeath).toMatchObject({ status: 'COMPLETED', billed: true, archived: true });
    expect(afterDeath?.[LIFECYCLE.pendingShard]).toBeUndefined();
    expect(redelivery.count(METRICS.ordersBilled)).toBe(0);
    expect(redelivery.count(METRICS.ordersCompleted)).toBe(0);
    expect(await pipeline.billingRecord(keyOf('case-3-billing-died'))).toMatchObject({
      body_hash: event.order.body_hash,
    });
  });

  it.each(['archive', 'billing'] as const)(
    'case 3: billing and archive writing their flags at once: the one that writes second completes the order in that write (%s second)',
    async (second) => {
      // Arrange: the consumer that goes second is held just before its flag write, after the other
      // consumer's view of the order was taken without its flag
      const scenario = pipeline.scenario();
      const orderId = `case-3-at-once-${second}`;
      const event = await publishedBy(await accepted(scenario, orderId));
      const beforeWrite = new Checkpoint();
      let held = false;
      /** What the late consumer sent after its first flag write: its writes' update expressions, 'read' for a read. */
      const afterFirstWrite: string[] = [];
      const hold = async (command: unknown, send: () => Promise<unknown>) => {
        const isFlagWrite =
          second === 'archive' ? command instanceof UpdateCommand : command instanceof TransactWriteCommand;
        if (held) {
          if (command instanceof GetCommand) afterFirstWrite.push('read');
          if (command instanceof UpdateCommand) afterFirstWrite.push(String(command.input.UpdateExpression));
          if (command instanceof TransactWriteCommand)
            afterFirstWrite.push(String(command.input.TransactItems?.[1]?.Update?.UpdateExpression));
        }
        if (isFlagWrite && !held) {
          held = true;
          await beforeWrite.pass();
        }
        return send();
      };
      const late =
        second === 'archive' ? scenario.archive({ intercept: hold }) : scenario.billing({ intercept: hold });
      const early = second === 'archive' ? scenario.billing() : scenario.archive();

      // Act
      const lateDelivery = late.deliver(event);
      await beforeWrite.reached;
      await early.deliver(event);
      const between = await pipeline.order(keyOf(orderId));
      beforeWrite.release();
      await lateDelivery;

      // Assess: its flag alone was refused (the other flag is set); the one write after that set
      // the flag and COMPLETED together, with no read and no separate completion
      expect(afterFirstWrite).toEqual([
        'SET #flag = :true, #status = :completed, updated_at = :now REMOVE #shard',
      ]);
      expect(between).toMatchObject({ status: 'PUBLISHED' });
      expect(early.count(METRICS.ordersCompleted)).toBe(0);
      expect(late.count(METRICS.ordersCompleted)).toBe(1);
      const final = await pipeline.order(keyOf(orderId));
      expect(final).toMatchObject({ status: 'COMPLETED', billed: true, archived: true });
      expect(final?.[LIFECYCLE.pendingShard]).toBeUndefined();
    },
  );
});

describe('case 4: FAILED or REJECTED yet billed', () => {
  it('case 4: an order whose archive delivery dead-lettered is FAILED, and a late billing delivery neither bills it nor sets billed', async () => {
    // Arrange
    const scenario = pipeline.scenario();
    const event = await publishedBy(await accepted(scenario, 'case-4-dead-lettered'));
    await scenario.deadLetter(event, 'archive-dlq');
    const billing = scenario.billing();

    // Act
    await billing.deliver(event);

    // Assess
    expect(billing.count(METRICS.sideEffectsNotWanted)).toBe(1);
    expect(billing.count(METRICS.ordersBilled)).toBe(0);
    expect(await pipeline.billingRecord(keyOf('case-4-dead-lettered'))).toBeUndefined();
    expect(await pipeline.order(keyOf('case-4-dead-lettered'))).toMatchObject({
      status: 'FAILED',
      billed: false,
    });
    expect(await pipeline.failedOrderRows(keyOf('case-4-dead-lettered'))).toHaveLength(1);
  });

  // archive writes first, and takes the object back when its flag write finds the order FAILED: a
  // FAILED order keeps no object (not only no flag).
  it('case 4: an order whose billing delivery dead-lettered is FAILED, and a late archive delivery leaves no archive object', async () => {
    // Arrange
    const scenario = pipeline.scenario();
    const event = await publishedBy(await accepted(scenario, 'case-4-billing-dead-lettered'));
    await scenario.deadLetter(event, 'billing-dlq');
    const archive = scenario.archive();

    // Act
    await archive.deliver(event);

    // Assess
    expect(archive.count(METRICS.sideEffectsNotWanted)).toBe(1);
    expect(await pipeline.order(keyOf('case-4-billing-dead-lettered'))).toMatchObject({
      status: 'FAILED',
      archived: false,
    });
    expect(await pipeline.archiveObjects(event.order)).toBe(0);
  });

  it("case 4: a dead letter between archive's object and its completing write leaves the order FAILED, not COMPLETED, and takes the object back", async () => {
    // Arrange: billed; archive writes its object and is held before the write that would set
    // archived and COMPLETED together
    const scenario = pipeline.scenario();
    const orderId = 'case-4-failed-before-completion';
    const event = await publishedBy(await accepted(scenario, orderId));
    await scenario.billing().deliver(event);
    const beforeCompletion = new Checkpoint();
    const archive = scenario.archive({
      intercept: async (command, send) => {
        if (command instanceof UpdateCommand) await beforeCompletion.pass();
        return send();
      },
    });

    // Act
    const archiveDelivery = archive.deliver(event);
    await beforeCompletion.reached;
    expect(await pipeline.archiveObjects(event.order)).toBe(1);
    await scenario.deadLetter(event, 'billing-dlq');
    beforeCompletion.release();
    await archiveDelivery;

    // Assess: the order does not move off FAILED, and its flag and the bucket agree: no current
    // object (a delete marker over the one written)
    expect(archive.count(METRICS.ordersCompleted)).toBe(0);
    expect(archive.count(METRICS.sideEffectsNotWanted)).toBe(1);
    expect(await pipeline.order(keyOf(orderId))).toMatchObject({
      status: 'FAILED',
      billed: true,
      archived: false,
    });
    expect(await pipeline.archiveObjects(event.order)).toBe(0);
  });

  it("case 4: an operator's redrive recording archived on the object a stale delivery is taking back: the object is put back", async () => {
    // Arrange: FAILED (billing dead-lettered) before archive ran; a stale archive delivery has
    // written its object, found the order FAILED and not archived, and is held before its delete
    const scenario = pipeline.scenario();
    const orderId = 'case-4-redrive-during-withdrawal';
    const event = await publishedBy(await accepted(scenario, orderId));
    await scenario.deadLetter(event, 'billing-dlq');
    const beforeDelete = new Checkpoint();
    const stale = scenario.archive({
      intercept: async (command, send) => {
        if (command instanceof DeleteObjectCommand) await beforeDelete.pass();
        return send();
      },
    });
    const staleDelivery = stale.deliver(event);
    await beforeDelete.reached;

    // Act: the redrive finds the object (412), records archived and checks the object again;
    // then the stale delivery deletes its version and reads the order again
    await scenario.archive().deliver(event, { operatorRedrive: true });
    beforeDelete.release();
    await staleDelivery;

    // Assess: archived, and the object is there again
    expect(await pipeline.order(keyOf(orderId))).toMatchObject({ status: 'FAILED', archived: true });
    expect(await pipeline.archiveObjects(event.order)).toBe(1);
  });

  it("case 4: an operator's redrive whose own object a stale delivery takes back before the redrive's flag write puts it back", async () => {
    // Arrange: FAILED before archive ran; the redrive has written its object and is held before
    // its flag write
    const scenario = pipeline.scenario();
    const orderId = 'case-4-redrive-object-withdrawn';
    const event = await publishedBy(await accepted(scenario, orderId));
    await scenario.deadLetter(event, 'billing-dlq');
    const beforeFlag = new Checkpoint();
    const redrive = scenario.archive({
      intercept: async (command, send) => {
        if (command instanceof UpdateCommand) await beforeFlag.pass();
        return send();
      },
    });
    const redriveDelivery = redrive.deliver(event, { operatorRedrive: true });
    await beforeFlag.reached;

    // Act: a stale delivery finds the object (412), finds the order FAILED and not archived, and
    // takes the object back; then the redrive records archived
    await scenario.archive().deliver(event);
    expect(await pipeline.archiveObjects(event.order)).toBe(0);
    beforeFlag.release();
    await redriveDelivery;

    // Assess
    expect(await pipeline.order(keyOf(orderId))).toMatchObject({ status: 'FAILED', archived: true });
    expect(await pipeline.archiveObjects(event.order)).toBe(1);
  });

  it.each([
    ['before its PublishOrder', 'PublishOrder'],
    ['after it', undefined],
  ])(
    "case 4: a second run that fails while the first run's event is out or going out (%s) leaves the order PUBLISHED, and the consumers complete it",
    async (_when, holdBefore) => {
      // Arrange: run 1 has stored the order PUBLISHED (held before PublishOrder, or finished)
      const status = 'PUBLISHED';
      const scenario = pipeline.scenario();
      const orderId = `case-4-second-run-fails-${holdBefore ? 'held' : 'done'}`;
      const held = new Checkpoint();
      const first = await accepted(
        scenario,
        orderId,
        starts(holdBefore ? { pauseBefore: { [holdBefore]: held } } : {}),
      );
      await (holdBefore ? held.reached : first.outcome);

      // Act: run 2 (a replay's or the reconciler's) fails in Validate
      const second = pipeline.workflow.start(first.input, `${first.name}-r1`, {
        validate: () => {
          throw lambdaTimedOut();
        },
      });
      const secondOutcome = await second.outcome;
      const afterSecond = await pipeline.order(keyOf(orderId));
      held.release();
      await fanOut(scenario, first);

      // Assess
      expect(secondOutcome).toMatchObject({
        status: 'FAILED',
        states: ['Validate', 'RecordFailure', 'MarkFailed', 'Failed'],
      });
      expect(afterSecond).toMatchObject({ status });
      expect(await pipeline.failedOrderRows(keyOf(orderId))).toHaveLength(1);
      expect(await pipeline.order(keyOf(orderId))).toMatchObject({ status: 'COMPLETED', billed: true });
    },
  );

  it.each([
    ['before its PublishOrder', 'PublishOrder'],
    ['after it', undefined],
  ])(
    'case 4: a second run under stricter rules does not mark REJECTED an order the first run stored PUBLISHED (%s)',
    async (_when, holdBefore) => {
      // Arrange: run 1 has stored the order (held before PublishOrder, or finished)
      const status = 'PUBLISHED';
      const scenario = pipeline.scenario();
      const orderId = `case-4-rules-stricter-${holdBefore ? 'held' : 'done'}`;
      const held = new Checkpoint();
      const first = await accepted(
        scenario,
        orderId,
        starts(holdBefore ? { pauseBefore: { [holdBefore]: held } } : {}),
      );
      await (holdBefore ? held.reached : first.outcome);

      // Act: run 2 validates under a lower total limit than the order's
      const second = pipeline.workflow.start(first.input, `${first.name}-r1`, {
        validate: pipeline.workflow.validatorWith({ orderTotalLimit: 100 }),
      });
      const secondOutcome = await second.outcome;
      const afterSecond = await pipeline.order(keyOf(orderId));
      held.release();
      await fanOut(scenario, first);

      // Assess
      expect(secondOutcome.states).toContain('FormatReasons');
      expect(secondOutcome.states.slice(-2)).toEqual(['MarkRejected', 'AlreadyDone']);
      expect(afterSecond).toMatchObject({ status, reasons: [] });
      expect(await pipeline.order(keyOf(orderId))).toMatchObject({ status: 'COMPLETED', billed: true });
    },
  );

  it('case 4: a second run under looser rules does not publish an order the first run rejected', async () => {
    // Arrange: run 1 rejects an order over the total limit
    const scenario = pipeline.scenario();
    const first = await accepted(scenario, 'case-4-rules-looser', starts(), {
      items: [{ product_id: 'sku-1', quantity: 1, unit_price: 2_000_000 }],
    });
    const firstOutcome = await first.outcome;

    // Act
    const second = pipeline.workflow.start(first.input, `${first.name}-r1`, {
      validate: pipeline.workflow.validatorWith({ orderTotalLimit: 10_000_000 }),
    });
    const secondOutcome = await second.outcome;

    // Assess
    expect(firstOutcome.states.at(-1)).toBe('Rejected');
    expect(secondOutcome.states).toEqual(['Validate', 'IsValid', 'StoreOrder', 'AlreadyDone']);
    expect(second.published).toEqual([]);
    expect(await pipeline.order(keyOf('case-4-rules-looser'))).toMatchObject({
      status: 'REJECTED',
      billed: false,
      reasons: [expect.stringContaining('exceeds the limit')],
    });
  });
});

describe('case 5: stuck', () => {
  it("case 5: a start refused after the write answers 503, keeps the order with its claim released, and the client's retry starts its run", async () => {
    // Arrange
    const scenario = pipeline.scenario();
    scenario.stepFunctions.next(throttled());
    const request = submit('case-5-refused');

    // Act: the client retries at once (Retry-After: 1), the clock has not moved
    const refused = await scenario.send(request);
    const afterRefusal = await pipeline.order(keyOf('case-5-refused'));
    const retry = await scenario.send(request);
    await fanOut(scenario, onlyRun(scenario));

    // Assess
    expect(refused.statusCode).toBe(503);
    expect(afterRefusal).toMatchObject({
      status: 'ACCEPTED',
      [LIFECYCLE.startedAt]: releasedClaim(afterRefusal),
    });
    expect(retry.statusCode).toBe(202);
    expect(scenario.stepFunctions.calls).toHaveLength(2);
    expect(await pipeline.order(keyOf('case-5-refused'))).toMatchObject({ status: 'COMPLETED' });
  });

  it('case 5: a publisher dying between its write and its start: a replay within restartAfterMs starts nothing, concurrent replays after it restart one run', async () => {
    // Arrange: request 1 writes the order and dies as it was about to call StartExecution
    const scenario = pipeline.scenario();
    const aboutToStart = new Checkpoint();
    scenario.stepFunctions.next(heldAt(aboutToStart, publisherDies()));
    const request = submit('case-5-died');
    void scenario.send(request);
    await aboutToStart.reached;
    aboutToStart.release();
    const afterDeath = await pipeline.order(keyOf('case-5-died'));

    // Act
    scenario.clock.advance(1000);
    const early = await scenario.send(request);
    const runsAfterEarly = scenario.stepFunctions.runs.length;
    scenario.clock.advance(pipeline.restartAfterMs);
    const late = await Promise.all([scenario.send(request), scenario.send(request), scenario.send(request)]);
    await fanOut(scenario, onlyRun(scenario));

    // Assess: the dead request's claim held off the early replay, not the late ones (one of three won)
    expect(afterDeath).toMatchObject({ status: 'ACCEPTED', [LIFECYCLE.startedAt]: NOW.getTime() });
    expect(early.statusCode).toBe(202);
    expect(runsAfterEarly).toBe(0);
    expect(late.map((answer) => answer.statusCode)).toEqual([202, 202, 202]);
    expect(scenario.stepFunctions.calls).toHaveLength(2);
    expect(await pipeline.order(keyOf('case-5-died'))).toMatchObject({ status: 'COMPLETED' });
  });

  it("case 5: a run dying after StoreOrder leaves the order PUBLISHED with no event; replays start nothing, and the reconciler's restart (a run of its own) completes it", async () => {
    // Arrange
    const scenario = pipeline.scenario();
    const request = submit('case-5-run-died');
    const first = await accepted(scenario, 'case-5-run-died', starts({ dieBefore: 'PublishOrder' }));
    const firstOutcome = await first.outcome;
    const afterDeath = await pipeline.order(keyOf('case-5-run-died'));

    // Act: replays before and after restartAfterMs; then the reconciler's restart, as it starts one
    scenario.clock.advance(1000);
    const early = await scenario.send(request);
    const lookup = await scenario.send(read('case-5-run-died'));
    scenario.clock.advance(pipeline.restartAfterMs);
    const late = await scenario.send(request);
    const runsAfterReplays = scenario.stepFunctions.runs.length;
    const restart = pipeline.workflow.start(first.input, `${first.name}-r1`);
    await fanOut(scenario, restart);

    // Assess: PUBLISHED is the reconciler's (its consumers may be at work: a replay would publish
    // it again each time); it stays in the pending index until then
    expect(firstOutcome.status).toBe('DIED');
    expect(afterDeath).toMatchObject({ status: 'PUBLISHED' });
    expect(afterDeath?.[LIFECYCLE.pendingShard]).toBeDefined();
    expect(first.published).toEqual([]);
    expect(json(early.body)).toEqual({ order_id: 'case-5-run-died', status: 'PUBLISHED' });
    expect(json(lookup.body)).toMatchObject({ status: 'PUBLISHED' });
    expect(late.statusCode).toBe(202);
    expect(runsAfterReplays).toBe(1);
    expect((await restart.outcome).states).toContain('StoreOrder');
    expect(await pipeline.order(keyOf('case-5-run-died'))).toMatchObject({ status: 'COMPLETED' });
  });
});

describe('case 6: replays multiply runs', () => {
  it('case 6: twenty concurrent copies of one signed request all answer 202 with one order id and start one run', async () => {
    // Arrange: the one start is held until the other nineteen have answered; the id is derived
    const scenario = pipeline.scenario();
    const start = new Checkpoint();
    scenario.stepFunctions.next(heldAt(start, starts()));
    const request = signedRequest({ body: JSON.stringify(orderBody({ customer_id: 'cust-case-6' })) });

    // Act
    const responses = Array.from({ length: 20 }, () => scenario.send(request));
    await start.reached;
    await settled(responses, 19);
    start.release();
    const answers = await Promise.all(responses);

    // Assess
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(20).fill(202));
    const orderId = only(
      [...new Set(answers.map((answer) => (json(answer.body) as { order_id: string }).order_id))],
      'order id',
    );
    expect(scenario.stepFunctions.calls).toHaveLength(1);
    expect(scenario.publisherCount(METRICS.ordersAccepted)).toBe(1);
    expect(scenario.publisherCount(METRICS.ordersReplayed)).toBe(19);
    await fanOut(scenario, onlyRun(scenario));
    expect(await pipeline.order(keyOf(orderId))).toMatchObject({ status: 'COMPLETED' });
  });
});

describe('case 7: a filter policy on billing', () => {
  it("case 7: an order outside billing's filter policy completes with archived alone; one inside it waits for billed", async () => {
    // Arrange: billing's subscription only lets BILLED_MARKET through (the stack's filter and rules)
    const scenario = pipeline.scenario();
    const outside = await publishedBy(
      await accepted(scenario, 'case-7-outside', starts(), { market: 'eu', currency: 'EUR' }),
    );
    const inside = await publishedBy(await accepted(scenario, 'case-7-inside'));

    // Act: only archive gets the outside order's event; billing has not had the inside one's yet
    await scenario.archive().deliver(outside);
    await scenario.archive().deliver(inside);

    // Assess
    expect(pipeline.filterPolicies).toEqual([{ market: [BILLED_MARKET] }]);
    expect(inside.order.market).toBe(BILLED_MARKET);
    expect(await pipeline.order(keyOf('case-7-outside'))).toMatchObject({
      status: 'COMPLETED',
      archived: true,
      billed: false,
    });
    expect(await pipeline.order(keyOf('case-7-inside'))).toMatchObject({
      status: 'PUBLISHED',
      archived: true,
      billed: false,
    });
  });
});
