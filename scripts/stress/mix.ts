/**
 * What a stress run sends: the request kinds, their weights, the seeded draw of one kind per
 * request, and the order bodies of each kind. Pure: no I/O, no clock, no Math.random.
 */
import type { StressProfile } from '../../environments';

/** The kinds of request a stress run mixes; each has one expected answer (see {@link EXPECTED_ANSWER}). */
export const REQUEST_KINDS = ['valid', 'businessReject', 'schemaInvalid', 'badSignature', 'replay'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Relative weights per kind (any scale; normalized when drawn). */
export type Mix = Record<RequestKind, number>;

/**
 * The answer each kind must get from the publisher (CONTRACT.md): a replay is the verbatim resend
 * of an earlier valid request, so it gets the same 202 and order id.
 */
export const EXPECTED_ANSWER: Readonly<Record<RequestKind, number>> = {
  valid: 202,
  businessReject: 202,
  schemaInvalid: 400,
  badSignature: 401,
  replay: 202,
};

/** Names accepted by `--mix`, so the issue's `invalid`, `badsig`, `duplicate` work as well as the profile's names. */
const MIX_ALIASES: Readonly<Record<string, RequestKind>> = {
  valid: 'valid',
  businessreject: 'businessReject',
  reject: 'businessReject',
  invalid: 'businessReject',
  schemainvalid: 'schemaInvalid',
  schema: 'schemaInvalid',
  malformed: 'schemaInvalid',
  badsignature: 'badSignature',
  badsig: 'badSignature',
  replay: 'replay',
  duplicate: 'replay',
};

/** A `--mix` value that cannot be read. */
export class InvalidMixError extends Error {
  override readonly name = 'InvalidMixError';
}

/** The profile's mix as a {@link Mix}. */
export function mixFromProfile(mix: StressProfile['mix']): Mix {
  return { ...mix };
}

/**
 * Reads `valid=0.8,invalid=0.1,badsig=0.05,duplicate=0.05`. Kinds not named get weight 0.
 * @throws InvalidMixError on an unknown kind, a negative or non-numeric weight, or all zeros.
 */
export function parseMix(text: string): Mix {
  const mix: Mix = { valid: 0, businessReject: 0, schemaInvalid: 0, badSignature: 0, replay: 0 };
  for (const part of text.split(',').map((entry) => entry.trim())) {
    if (part === '') continue;
    const [rawName, rawWeight, ...rest] = part.split('=');
    const kind = MIX_ALIASES[(rawName ?? '').trim().toLowerCase()];
    if (!kind || rest.length > 0) {
      throw new InvalidMixError(
        `unknown mix entry "${part}"; use kind=weight with kinds valid, invalid (business reject), schema, badsig, duplicate`,
      );
    }
    const weight = Number(rawWeight);
    if (rawWeight === undefined || rawWeight.trim() === '' || !Number.isFinite(weight) || weight < 0) {
      throw new InvalidMixError(`the weight of ${rawName} must be a number >= 0, got "${rawWeight ?? ''}"`);
    }
    mix[kind] += weight;
  }
  if (totalWeight(mix) <= 0)
    throw new InvalidMixError('the mix needs at least one kind with a weight above 0');
  return mix;
}

function totalWeight(mix: Mix): number {
  return REQUEST_KINDS.reduce((sum, kind) => sum + mix[kind], 0);
}

/** The mix as shares that add up to 1. */
export function normalizeMix(mix: Mix): Mix {
  const total = totalWeight(mix);
  if (total <= 0) throw new InvalidMixError('the mix needs at least one kind with a weight above 0');
  return Object.fromEntries(REQUEST_KINDS.map((kind) => [kind, mix[kind] / total])) as Mix;
}

/** A source of numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: a small seeded generator, so a run's plan can be reproduced from its seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws one kind with probability proportional to its weight. */
export function drawKind(mix: Mix, random: Random): RequestKind {
  const shares = normalizeMix(mix);
  let point = random();
  for (const kind of REQUEST_KINDS) {
    if (shares[kind] <= 0) continue;
    point -= shares[kind];
    if (point < 0) return kind;
  }
  // Rounding left a sliver at the top: it belongs to the last kind with weight.
  return [...REQUEST_KINDS].reverse().find((kind) => shares[kind] > 0) ?? 'valid';
}

/** One planned request. A replay names the earlier valid request it resends verbatim. */
export interface PlannedRequest {
  index: number;
  kind: RequestKind;
  /** The order id the body carries (or, for a body that is not JSON, would have carried). */
  orderId: string;
  body: string;
  /** For a replay: the index of the request it repeats, headers and all. */
  replayOf?: number;
  /** For a bad signature: sign with a wrong secret or a timestamp outside the window. */
  signature?: 'wrong-secret' | 'stale-timestamp';
}

/** What the business rules of the target environment allow (from `environments/`). */
export interface OrderRules {
  orderTotalLimit: number;
  marketCurrencies: Readonly<Record<string, readonly string[]>>;
}

/** How far back a replay reaches, so its original is still inside the 300 s signature window. */
const REPLAY_WINDOW = 20;

/**
 * The whole run's requests, drawn from the seeded generator: kinds by the mix, bodies that are
 * valid, business-invalid or schema-invalid for `rules`, and replays of recent valid requests.
 * A replay drawn before any valid request becomes a valid request.
 */
export function planRequests(options: {
  orders: number;
  mix: Mix;
  rules: OrderRules;
  runId: string;
  random: Random;
}): PlannedRequest[] {
  const { orders, mix, rules, runId, random } = options;
  const plan: PlannedRequest[] = [];
  const validIndexes: number[] = [];
  for (let index = 0; index < orders; index++) {
    let kind = drawKind(mix, random);
    if (kind === 'replay' && validIndexes.length === 0) kind = 'valid';
    const orderId = `${runId}-${index}`;
    switch (kind) {
      case 'valid':
        validIndexes.push(index);
        plan.push({ index, kind, orderId, body: JSON.stringify(validOrder(orderId, rules, random)) });
        break;
      case 'businessReject':
        plan.push({
          index,
          kind,
          orderId,
          body: JSON.stringify(businessInvalidOrder(orderId, rules, random)),
        });
        break;
      case 'schemaInvalid':
        plan.push({ index, kind, orderId, body: schemaInvalidBody(orderId, rules, random) });
        break;
      case 'badSignature':
        plan.push({
          index,
          kind,
          orderId,
          body: JSON.stringify(validOrder(orderId, rules, random)),
          signature: random() < 0.5 ? 'wrong-secret' : 'stale-timestamp',
        });
        break;
      case 'replay': {
        const recent = validIndexes.slice(-REPLAY_WINDOW);
        const replayOf = recent[Math.floor(random() * recent.length)] ?? 0;
        const original = plan[replayOf];
        plan.push({
          index,
          kind,
          orderId: original?.orderId ?? orderId,
          body: original?.body ?? '',
          replayOf,
        });
        break;
      }
    }
  }
  return plan;
}

function pick<T>(values: readonly T[], random: Random): T {
  const value = values[Math.floor(random() * values.length)];
  if (value === undefined) throw new Error('pick from an empty list');
  return value;
}

function integer(min: number, max: number, random: Random): number {
  return min + Math.floor(random() * (max - min + 1));
}

function markets(rules: OrderRules): string[] {
  const served = Object.keys(rules.marketCurrencies).filter(
    (market) => (rules.marketCurrencies[market] ?? []).length > 0,
  );
  if (served.length === 0) throw new Error('the environment serves no market');
  return served.sort();
}

/** A valid order: a served market, one of its currencies, 1-3 distinct lines, total within the limit. */
export function validOrder(orderId: string, rules: OrderRules, random: Random) {
  const market = pick(markets(rules), random);
  const currency = pick(rules.marketCurrencies[market] ?? [], random);
  const lines = integer(1, 3, random);
  // Each line stays under a third of the limit, so the total never breaks it.
  const maxLine = Math.max(1, Math.floor(rules.orderTotalLimit / 3));
  const items = Array.from({ length: lines }, (_, line) => {
    const quantity = integer(1, Math.min(5, maxLine), random);
    const unitPrice = integer(0, Math.min(5000, Math.floor(maxLine / quantity)), random);
    return { product_id: `sku-${line + 1}-${integer(100, 999, random)}`, quantity, unit_price: unitPrice };
  });
  return { order_id: orderId, customer_id: `cust-${integer(1, 500, random)}`, market, currency, items };
}

/** A well-formed order that breaks one business rule: total over the limit, currency, or a repeated product. */
export function businessInvalidOrder(orderId: string, rules: OrderRules, random: Random) {
  const order = validOrder(orderId, rules, random);
  const rule = integer(0, 2, random);
  if (rule === 0) {
    order.items = [
      {
        product_id: 'sku-over-limit',
        quantity: 1000,
        unit_price: Math.ceil(rules.orderTotalLimit / 1000) + 1,
      },
    ];
  } else if (rule === 1) {
    const allowed = rules.marketCurrencies[order.market] ?? [];
    const other = Object.values(rules.marketCurrencies)
      .flat()
      .filter((currency) => !allowed.includes(currency))
      .sort();
    // With every currency allowed everywhere, the sentinel XXX (ISO 4217 "no currency") is refused.
    order.currency = other.length > 0 ? pick(other, random) : 'XXX';
  } else {
    const [first] = order.items;
    if (first) order.items = [first, { ...first }];
  }
  return order;
}

/** A body the publisher refuses with 400: broken JSON, a wrong type, a missing field or an unknown field. */
export function schemaInvalidBody(orderId: string, rules: OrderRules, random: Random): string {
  const order: Record<string, unknown> = validOrder(orderId, rules, random);
  switch (integer(0, 3, random)) {
    case 0:
      return `{"order_id":"${orderId}","items":[`;
    case 1:
      return JSON.stringify({ ...order, items: [{ product_id: 'sku-1', quantity: 0, unit_price: 1 }] });
    case 2: {
      delete order.customer_id;
      return JSON.stringify(order);
    }
    default:
      return JSON.stringify({ ...order, coupon: 'FREE' });
  }
}
