/**
 * Step Functions task `Validate`: invoked with the state input `{ order }`, returns the
 * ValidationResult the workflow stores at `$.validation`. Calls no AWS API, so it imports no SDK
 * and no tracer: its bundle stays small.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { readJsonEnv, readNonNegativeIntegerEnv } from '../shared/config';
import { instrumentHandler } from '../shared/powertools/instrument';
import { logger } from '../shared/powertools/logger';
import { metrics } from '../shared/powertools/metrics';
import { ENV, METRICS, type ValidationResult } from '../shared/runtime-contract';
import {
  orderFromWorkflowInput,
  parseMarketCurrencies,
  validateOrder,
  type BusinessRules,
} from './business-rules';

const rules: BusinessRules = {
  orderTotalLimit: readNonNegativeIntegerEnv(process.env, ENV.orderTotalLimit),
  marketCurrencies: readJsonEnv(process.env, ENV.marketCurrencies, parseMarketCurrencies),
};

export const handler = instrumentHandler(
  async (input: unknown): Promise<ValidationResult> => {
    const order = orderFromWorkflowInput(input);
    logger.setCorrelationId(order.order_id);
    const result = validateOrder(order, rules);
    if (result.valid) {
      metrics.addMetric(METRICS.ordersValidated, MetricUnit.Count, 1);
      logger.info('order valid', { total_amount: result.order.total_amount });
    } else {
      metrics.addMetric(METRICS.ordersRejected, MetricUnit.Count, 1);
      logger.info('order rejected', { reasons: result.reasons });
    }
    return result;
  },
  { logger, metrics },
);
