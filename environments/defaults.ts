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
