/**
 * The workflow's business validation (CONTRACT.md): what a well-formed order must also satisfy in
 * this environment. Pure functions, no AWS calls.
 */
import { InvalidWorkflowInputError } from '../shared/errors';
import type { SubmittedOrder, ValidationResult, WorkflowInput } from '../shared/runtime-contract';

/** The environment's rules. */
export interface BusinessRules {
  /** Largest order total, in minor units. */
  orderTotalLimit: number;
  /** Currencies allowed per market; a market absent from the map is not served. */
  marketCurrencies: Readonly<Record<string, readonly string[]>>;
}

/**
 * Checks the MARKET_CURRENCIES document: `{"us": ["USD"], "eu": ["EUR"], ...}`.
 * @throws Error describing the first problem.
 */
export function parseMarketCurrencies(value: unknown): Record<string, string[]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('expected an object of market -> currencies');
  }
  const result: Record<string, string[]> = {};
  for (const [market, currencies] of Object.entries(value)) {
    if (!Array.isArray(currencies) || !currencies.every((currency) => typeof currency === 'string')) {
      throw new Error(`market "${market}" must map to an array of currency codes`);
    }
    result[market] = currencies as string[];
  }
  return result;
}

/**
 * The order of a workflow input. The publisher already checked the shape; this only guards
 * against a wrongly wired state machine.
 * @throws InvalidWorkflowInputError
 */
export function orderFromWorkflowInput(input: unknown): SubmittedOrder {
  const order = (input as Partial<WorkflowInput> | null)?.order;
  if (
    typeof order !== 'object' ||
    order === null ||
    typeof order.order_id !== 'string' ||
    !Array.isArray(order.items)
  ) {
    throw new InvalidWorkflowInputError('expected { order: SubmittedOrder }');
  }
  return order;
}

/** Sum of quantity x unit price, exact even beyond Number's safe integers. */
export function orderTotal(order: Pick<SubmittedOrder, 'items'>): bigint {
  return order.items.reduce((sum, item) => sum + BigInt(item.quantity) * BigInt(item.unit_price), 0n);
}

/**
 * Applies every rule and lists every broken one (not just the first), so a rejected order's
 * reasons are complete.
 */
export function validateOrder(order: SubmittedOrder, rules: BusinessRules): ValidationResult {
  const reasons: string[] = [];
  const total = orderTotal(order);
  if (total > BigInt(rules.orderTotalLimit)) {
    reasons.push(`order total ${total} exceeds the limit of ${rules.orderTotalLimit}`);
  }
  const currencies = Object.hasOwn(rules.marketCurrencies, order.market)
    ? rules.marketCurrencies[order.market]
    : undefined;
  if (currencies === undefined) {
    reasons.push(`market ${order.market} is not served`);
  } else if (!currencies.includes(order.currency)) {
    reasons.push(`currency ${order.currency} is not allowed in market ${order.market}`);
  }
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const { product_id } of order.items) {
    if (seen.has(product_id)) duplicates.add(product_id);
    seen.add(product_id);
  }
  for (const productId of duplicates) reasons.push(`product ${productId} appears on more than one line`);

  if (reasons.length > 0) return { valid: false, reasons };
  const validated = { ...order, total_amount: Number(total) };
  return { valid: true, order: validated };
}
