import type { EnvironmentInput } from './schema';

/** Markets and the currencies each accepts; shared by every environment unless one overrides it. */
export const MARKET_CURRENCIES: EnvironmentInput['marketCurrencies'] = {
  us: ['USD'],
  ca: ['CAD', 'USD'],
  eu: ['EUR', 'USD'],
  gb: ['GBP'],
  ch: ['CHF', 'EUR'],
  jp: ['JPY'],
  ru: ['RUB'],
};

/** Status codes a stress run may see without counting them as errors. */
export const EXPECTED_STATUS_CODES = [202, 400, 401, 409];

/** What each reservation protects, so an environment's `lambda.reservations` say it once. */
export const RESERVATION_PROTECTS = {
  publisher:
    'guarantees the order API its concurrency when other functions burst, and caps what a request flood takes from the account',
  validate:
    "guarantees the workflow's validation step, so a burst elsewhere does not throttle it into retries",
  consumer:
    "guarantees the queue mapping's maxConcurrency: a throttled batch goes back to the queue, uses up a receive and at last dead-letters",
} as const;
