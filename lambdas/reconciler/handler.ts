/**
 * Reconciler: invoked on a schedule (EventBridge Scheduler), one bounded sweep over the orders that
 * are not terminal yet. See reconcile.ts and docs/internals.md.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readNonNegativeIntegerEnv, requireEnv } from '../shared/config';
import { instrumentHandler } from '../shared/powertools/instrument';
import { logger } from '../shared/powertools/logger';
import { metrics } from '../shared/powertools/metrics';
import { tracer } from '../shared/powertools/tracer';
import { ENV } from '../shared/runtime-contract';
import { StepFunctionsWorkflowStarter } from '../shared/workflow-starter';
import { DynamoPendingOrders, sweep, type SweepResult } from './reconcile';

const config = {
  ordersTable: requireEnv(process.env, ENV.ordersTable),
  failedOrdersTable: requireEnv(process.env, ENV.failedOrdersTable),
  stateMachineArn: requireEnv(process.env, ENV.stateMachineArn),
  settings: {
    acceptedDeadlineMs: readNonNegativeIntegerEnv(process.env, ENV.acceptedDeadlineSeconds) * 1000,
    publishedDeadlineMs: readNonNegativeIntegerEnv(process.env, ENV.publishedDeadlineSeconds) * 1000,
    maxRestarts: readNonNegativeIntegerEnv(process.env, ENV.maxRestarts, 3),
    sweepLimit: readNonNegativeIntegerEnv(process.env, ENV.sweepLimit, 100),
  },
};

const dynamo = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const starter = new StepFunctionsWorkflowStarter(
  tracer.captureAWSv3Client(new SFNClient({})),
  config.stateMachineArn,
);
const pending = new DynamoPendingOrders(dynamo, config.ordersTable, config.failedOrdersTable);

export const handler = instrumentHandler(
  async (): Promise<SweepResult> => {
    const result = await sweep({
      stale: (before, limit) => pending.stale(before, limit),
      read: (key) => pending.read(key),
      claimRestart: (order, now) => pending.claimRestart(order, now),
      markFailed: (order, now) => pending.markFailed(order, now),
      recordFailure: (failure) => pending.recordFailure(failure),
      start: (order, attempt) => starter.start(order, attempt),
      now: () => new Date(),
      settings: config.settings,
      logger,
      metrics,
    });
    if (result.restarted.length + result.failed.length > 0) logger.warn('sweep finished', { ...result });
    return result;
  },
  { logger, metrics, tracer },
);
