import { parseOrderBody } from '../../lambdas/shared/order-schema';
import { sha256Hex } from '../../lambdas/shared/signing';
import { validateOrder } from '../../lambdas/validate/business-rules';
import { MARKET_CURRENCIES } from '../../environments/defaults';
import {
  drawKind,
  InvalidMixError,
  normalizeMix,
  parseMix,
  planRequests,
  REQUEST_KINDS,
  seededRandom,
  type Mix,
  type RequestKind,
} from './mix';

const RULES = { orderTotalLimit: 1_000_000, marketCurrencies: MARKET_CURRENCIES };
const PROFILE_MIX: Mix = { valid: 80, businessReject: 5, schemaInvalid: 5, badSignature: 5, replay: 5 };

describe('seededRandom', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    // Act
    const first = Array.from({ length: 5 }, seededRandom(42));
    const again = Array.from({ length: 5 }, seededRandom(42));
    const other = Array.from({ length: 5 }, seededRandom(43));
    // Assess
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    for (const value of first) expect(value >= 0 && value < 1).toBe(true);
  });
});

describe('drawKind', () => {
  it('draws kinds in proportion to their weights', () => {
    // Prepare
    const random = seededRandom(7);
    const counts: Record<string, number> = {};
    // Act
    for (let i = 0; i < 20_000; i++) {
      const kind = drawKind(PROFILE_MIX, random);
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    // Assess: within 1.5 points of the share on 20k draws
    expect((counts.valid ?? 0) / 20_000).toBeGreaterThan(0.785);
    expect((counts.valid ?? 0) / 20_000).toBeLessThan(0.815);
    for (const kind of ['businessReject', 'schemaInvalid', 'badSignature', 'replay']) {
      expect((counts[kind] ?? 0) / 20_000).toBeGreaterThan(0.035);
      expect((counts[kind] ?? 0) / 20_000).toBeLessThan(0.065);
    }
  });

  it('never draws a kind of weight 0', () => {
    // Prepare
    const random = seededRandom(1);
    const mix: Mix = { valid: 1, businessReject: 0, schemaInvalid: 0, badSignature: 0, replay: 0 };
    // Act
    const kinds = new Set(Array.from({ length: 1000 }, () => drawKind(mix, random)));
    // Assess
    expect([...kinds]).toEqual(['valid']);
  });
});

describe('parseMix', () => {
  it("reads the issue's syntax with its aliases", () => {
    // Act
    const mix = parseMix('valid=0.8,invalid=0.1,badsig=0.05,duplicate=0.05');
    // Assess
    expect(mix).toEqual({
      valid: 0.8,
      businessReject: 0.1,
      schemaInvalid: 0,
      badSignature: 0.05,
      replay: 0.05,
    });
  });

  it('reads the profile names and normalizes any scale', () => {
    // Act
    const mix = normalizeMix(parseMix('valid=6, schemaInvalid=2 ,replay=2'));
    // Assess
    expect(mix).toEqual({ valid: 0.6, businessReject: 0, schemaInvalid: 0.2, badSignature: 0, replay: 0.2 });
  });

  it.each([
    ['valid=1,bogus=1', /unknown mix entry/],
    ['valid=-1', /must be a number >= 0/],
    ['valid=abc', /must be a number >= 0/],
    ['valid', /must be a number >= 0/],
    ['valid=0', /at least one kind/],
    ['valid=1=2', /unknown mix entry/],
  ])('refuses %s', (text, message) => {
    // Act / Assess
    expect(() => parseMix(text)).toThrow(InvalidMixError);
    expect(() => parseMix(text)).toThrow(message);
  });
});

describe('planRequests', () => {
  const plan = (seed: number, mix = PROFILE_MIX, orders = 400) =>
    planRequests({ orders, mix, rules: RULES, runId: 'st-test', random: seededRandom(seed) });

  it('is reproducible from its seed', () => {
    // Act / Assess
    expect(plan(5)).toEqual(plan(5));
    expect(plan(5)).not.toEqual(plan(6));
  });

  it('gives each non-replay request its own order id', () => {
    // Act
    const requests = plan(9).filter((request) => request.kind !== 'replay');
    // Assess
    expect(new Set(requests.map((request) => request.orderId)).size).toBe(requests.length);
  });

  it('makes bodies that the publisher and the business rules judge as their kind intends', () => {
    // Act
    const requests = plan(11);
    // Assess
    const judged = (kind: RequestKind) => requests.filter((request) => request.kind === kind);
    for (const kind of REQUEST_KINDS) expect(judged(kind).length).toBeGreaterThan(0);
    for (const request of [...judged('valid'), ...judged('badSignature')]) {
      const parsed = parseOrderBody(request.body);
      expect(parsed.success).toBe(true);
      if (parsed.success) {
        const order = {
          ...parsed.order,
          order_id: request.orderId,
          client_id: 'c',
          created_at: '',
          body_hash: sha256Hex(request.body),
        };
        expect(validateOrder(order, RULES)).toMatchObject({ valid: true });
      }
    }
    for (const request of judged('businessReject')) {
      const parsed = parseOrderBody(request.body);
      expect(parsed.success).toBe(true);
      if (parsed.success) {
        const order = {
          ...parsed.order,
          order_id: request.orderId,
          client_id: 'c',
          created_at: '',
          body_hash: sha256Hex(request.body),
        };
        expect(validateOrder(order, RULES)).toMatchObject({ valid: false });
      }
    }
    for (const request of judged('schemaInvalid')) expect(parseOrderBody(request.body).success).toBe(false);
  });

  it('replays a recent valid request byte for byte', () => {
    // Act
    const requests = plan(13);
    // Assess
    const replays = requests.filter((request) => request.kind === 'replay');
    expect(replays.length).toBeGreaterThan(0);
    for (const replay of replays) {
      const original = requests[replay.replayOf ?? -1];
      expect(original?.kind).toBe('valid');
      expect(replay.body).toBe(original?.body);
      expect(replay.orderId).toBe(original?.orderId);
      expect(replay.index - (replay.replayOf ?? 0)).toBeLessThan(200);
    }
  });

  it('turns a replay drawn before any valid request into a valid one', () => {
    // Prepare
    const onlyReplays: Mix = { valid: 0, businessReject: 0, schemaInvalid: 0, badSignature: 0, replay: 1 };
    // Act
    const requests = plan(1, onlyReplays, 3);
    // Assess
    expect(requests.map((request) => request.kind)).toEqual(['valid', 'replay', 'replay']);
  });
});
