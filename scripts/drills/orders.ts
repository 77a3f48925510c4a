/**
 * The orders a fault drill sends and the accounting of how each ended: the stress tool's own
 * (scripts/stress: an ambiguous answer looked up by its order id, then {@link checkOrder} per
 * order), so a drill and a stress run judge "nothing lost, nothing twice" the same way.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import { submittedOrder } from '../../lambdas/publisher/app';
import { DynamoOrderRepository } from '../../lambdas/publisher/order-store';
import { parseOrderBody } from '../../lambdas/shared/order-schema';
import { orderKey } from '../../lambdas/shared/runtime-contract';
import { sha256Hex } from '../../lambdas/shared/signing';
import type { OrderClient } from '../lib/order-client';
import type { LocalStack } from '../local/stack';
import { account, requestOutcome, type Accounting, type RequestOutcome } from '../stress/accounting';
import type { RequestKind } from '../stress/mix';
import { PipelineObserver, resourcesFromOutputs } from '../stress/observe';
import { awaitTerminal, observeOutcomes } from '../stress/run';

/** A valid order with a fresh id. */
export function drillOrderBody(index = 0): string {
  return JSON.stringify({
    order_id: `drill-${Date.now().toString(36)}-${index}-${Math.random().toString(36).slice(2, 8)}`,
    customer_id: 'cust-drill',
    currency: 'USD',
    market: 'us',
    items: [{ product_id: 'sku-1', quantity: 1, unit_price: 1999 }],
  });
}

/** The `order_id` a body carries. */
export function orderIdOf(body: string): string {
  return (JSON.parse(body) as { order_id: string }).order_id;
}

/** Sends one signed order and records it the way the stress tool does (status 0: no answer). */
export async function submitOrder(
  client: OrderClient,
  body: string,
  kind: RequestKind,
  index: number,
  startedAt: number,
): Promise<RequestOutcome> {
  const startedMs = performance.now() - startedAt;
  const sent = { index, kind, orderId: orderIdOf(body), startedMs };
  return client.submit(body).then(
    (response) => requestOutcome(sent, response),
    (error: Error) => requestOutcome(sent, { error, latencyMs: performance.now() - startedAt - startedMs }),
  );
}

/**
 * Writes the order as the publisher does before it starts the run (ACCEPTED, a start claim made
 * now, the submitted order for a restart), and nothing else: what a publisher leaves behind when
 * it dies between its write and its StartExecution.
 */
export async function writeAcceptedOrder(stack: LocalStack, body: string): Promise<void> {
  const parsed = parseOrderBody(body);
  if (!parsed.success) throw new Error(`not a valid order body: ${body}`);
  const { clientId } = stack.client;
  const orderId = orderIdOf(body);
  const now = new Date();
  const bodyHash = sha256Hex(body);
  const order = submittedOrder(parsed.order, orderId, clientId, now.toISOString(), bodyHash);
  const repository = new DynamoOrderRepository(
    DynamoDBDocumentClient.from(new DynamoDBClient(stack.aws)),
    stack.outputs[OUTPUTS.ordersTable] ?? '',
  );
  const created = await repository.createAccepted({
    order_key: orderKey(clientId, orderId),
    order_id: orderId,
    client_id: clientId,
    body_hash: bodyHash,
    created_at: order.created_at,
    started_at: now.getTime(),
    submitted_json: JSON.stringify(order),
  });
  if (!created) throw new Error(`order ${orderId} exists already`);
}

/** The orders-table item of the stack client's order, as stored. */
export async function orderItem(
  stack: LocalStack,
  orderId: string,
): Promise<Record<string, unknown> | undefined> {
  const result = await new DynamoDBClient(stack.aws).send(
    new GetItemCommand({
      TableName: stack.outputs[OUTPUTS.ordersTable],
      Key: { order_key: { S: orderKey(stack.client.clientId, orderId) } },
      ConsistentRead: true,
    }),
  );
  return result.Item ? unmarshall(result.Item) : undefined;
}

/**
 * Waits until every order of `outcomes` that was accepted (a 202, or an ambiguous answer whose
 * order exists) is terminal or `deadlineMs` passes, then accounts for each against the tables and
 * the bucket.
 */
export async function settleOrders(
  stack: LocalStack,
  outcomes: readonly RequestOutcome[],
  deadlineMs: number,
): Promise<Accounting> {
  const observer = new PipelineObserver(
    resourcesFromOutputs(stack.outputs),
    stack.aws,
    stack.client.clientId,
  );
  await awaitTerminal(observer, outcomes, { deadlineMs, pollIntervalMs: 250 });
  return account(outcomes, await observeOutcomes(observer, outcomes));
}

/** A drill's check, as the harness reports it. */
interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const listed = (items: readonly string[]) =>
  items.length <= 4 ? items.join(', ') : `${items.slice(0, 4).join(', ')} (+${items.length - 4} more)`;

/**
 * The checks every fault drill makes of its orders: 0 lost (every accepted order terminal), 0
 * duplicates, and each order's stores agreeing with it (COMPLETED with one billing record for its
 * body and one archive object version; FAILED with its failed-orders row and no billing record
 * made after it failed; REJECTED never billed).
 */
export function orderChecks(accounting: Accounting, within: string): Check[] {
  const { ambiguous } = accounting;
  const disagreements = [
    ...accounting.completedWithoutSideEffects.map(
      (o) =>
        `${o.orderId}: COMPLETED with ${o.billingRecords} billing record(s), ${o.archiveVersions} archive version(s)`,
    ),
    ...accounting.failedWithoutRecord.map((orderId) => `${orderId}: FAILED without a failed-orders row`),
    ...accounting.inconsistentOrders.map((o) => `${o.orderId}: ${o.status}, ${o.problems.join('; ')}`),
    ...accounting.unexpectedOutcomes.map((o) => `${o.orderId}: a ${o.kind} order ended ${o.status}`),
  ];
  return [
    {
      name: `every accepted order ended terminal ${within} (0 lost)`,
      ok: accounting.accepted > 0 && accounting.lost === 0,
      detail:
        `${accounting.accepted} accepted (${ambiguous.accepted} of them behind ${ambiguous.answers} ambiguous answers, ` +
        `${ambiguous.notAccepted} ambiguous not found): ${JSON.stringify(accounting.statuses)}` +
        (accounting.lost > 0
          ? `; lost: ${listed(accounting.lostOrders.map((o) => `${o.orderId} ${o.status}`))}`
          : ''),
    },
    {
      name: '0 duplicates (one billing record, one archive object version at most)',
      ok: accounting.duplicates === 0,
      detail:
        accounting.duplicates === 0
          ? 'none'
          : listed(
              accounting.duplicateOrders.map(
                (o) => `${o.orderId}: ${o.billingRecords} billing, ${o.archiveVersions} archive`,
              ),
            ),
    },
    {
      name: 'each order agrees with its billing record and archive object',
      ok: disagreements.length === 0,
      detail: disagreements.length === 0 ? 'all agree' : listed(disagreements),
    },
  ];
}
