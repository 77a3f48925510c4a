/**
 * The client lifecycle against the local stack (moto's Secrets Manager and the real publisher):
 * a client added with the `clients` core signs within the printed cache time, a rotated client's
 * old secret works until retire, a removed client is refused within that time, and a concurrent
 * change is detected by the emulator's own staging-label rules.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import { OrderClient } from '../../scripts/lib/order-client';
import {
  applyClientChange,
  changeClient,
  ConcurrentChangeError,
  readClients,
  writeClients,
} from '../../scripts/ops/clients';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { validOrder } from './helpers';

jest.setTimeout(180_000);

/** Slack over the cache time for one request and the cache refresh itself. */
const MARGIN_MS = 3000;

describe('clients lifecycle on the local stack', () => {
  let stack: LocalStack;
  let secrets: SecretsManagerClient;
  let secretId: string;
  let cacheMs: number;
  let sent = 0;

  /** Sends orders as a client until the answer is `status`; returns how long that took. */
  const until = async (clientId: string, secret: string, status: number): Promise<number> => {
    const client = new OrderClient({ url: stack.url, clientId, secret });
    const started = Date.now();
    for (;;) {
      const response = await client.submit(validOrder({ order_id: `clients-${(sent += 1)}` }));
      if (response.status === status) return Date.now() - started;
      if (Date.now() - started > cacheMs + MARGIN_MS) {
        throw new Error(`${clientId} still got ${response.status} after ${Date.now() - started} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, writeStateFile: false });
    secrets = new SecretsManagerClient(stack.aws);
    secretId = stack.outputs[OUTPUTS.clientSecretsId] ?? '';
    cacheMs = Number(stack.outputs[OUTPUTS.clientSecretsCacheSeconds]) * 1000;
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('prints a cache time of a few seconds locally', () => {
    // Assess
    expect(cacheMs).toBeGreaterThan(0);
    expect(cacheMs).toBeLessThanOrEqual(5000);
  });

  it('add: the new client signs within the cache time; remove: it is refused within it', async () => {
    // Act
    const added = await changeClient(secrets, secretId, { kind: 'add', clientId: 'second-shop' });
    const toAccepted = await until('second-shop', added.secret ?? '', 202);
    await changeClient(secrets, secretId, { kind: 'remove', clientId: 'second-shop' });
    const toRefused = await until('second-shop', added.secret ?? '', 401);

    // Assess
    expect(toAccepted).toBeLessThanOrEqual(cacheMs + MARGIN_MS);
    expect(toRefused).toBeLessThanOrEqual(cacheMs + MARGIN_MS);
    // The demo client was never disturbed.
    expect(await until(stack.client.clientId, stack.client.secret, 202)).toBeLessThan(MARGIN_MS);
  });

  it("two clients reuse one order id without interference, and neither sees the other's order", async () => {
    // Prepare
    const added = await changeClient(secrets, secretId, { kind: 'add', clientId: 'other-shop' });
    await until('other-shop', added.secret ?? '', 202);
    const mine = new OrderClient({ url: stack.url, ...stack.client });
    const theirs = new OrderClient({ url: stack.url, clientId: 'other-shop', secret: added.secret ?? '' });
    const orderId = `shared-${Date.now()}`;

    // Act: the same id, two different bodies
    const first = await mine.submit(validOrder({ order_id: orderId, customer_id: 'mine' }));
    const second = await theirs.submit(validOrder({ order_id: orderId, customer_id: 'theirs' }));
    const [mineFinal, theirsFinal] = await Promise.all([
      mine.waitForTerminal(orderId, { deadlineMs: 30_000 }),
      theirs.waitForTerminal(orderId, { deadlineMs: 30_000 }),
    ]);

    // Assess: two independent orders (no 409), each COMPLETED
    expect([first.status, second.status]).toEqual([202, 202]);
    expect([mineFinal?.status, theirsFinal?.status]).toEqual(['COMPLETED', 'COMPLETED']);
    // Another client's order answers byte for byte like one that does not exist.
    await changeClient(secrets, secretId, { kind: 'add', clientId: 'third-shop' }).then(async (third) => {
      await until('third-shop', third.secret ?? '', 202);
      const stranger = new OrderClient({
        url: stack.url,
        clientId: 'third-shop',
        secret: third.secret ?? '',
      });
      const other = await stranger.status(orderId);
      const missing = await stranger.status('no-such-order');
      expect(other.status).toBe(404);
      expect(JSON.stringify(other.body)).toBe(JSON.stringify(missing.body));
      expect(other.headers.get('content-length')).toBe(missing.headers.get('content-length'));
    });
  });

  it('rotate keeps the old secret valid until retire, which revokes it within the cache time', async () => {
    // Prepare
    const first = await changeClient(secrets, secretId, { kind: 'add', clientId: 'rotating-shop' });
    await until('rotating-shop', first.secret ?? '', 202);

    // Act
    const rotated = await changeClient(secrets, secretId, { kind: 'rotate', clientId: 'rotating-shop' });
    await until('rotating-shop', rotated.secret ?? '', 202);
    const oldStillWorks = await until('rotating-shop', first.secret ?? '', 202);
    await changeClient(secrets, secretId, { kind: 'retire', clientId: 'rotating-shop' });
    const oldRefused = await until('rotating-shop', first.secret ?? '', 401);

    // Assess
    expect(oldStillWorks).toBeLessThan(MARGIN_MS);
    expect(oldRefused).toBeLessThanOrEqual(cacheMs + MARGIN_MS);
    expect(await until('rotating-shop', rotated.secret ?? '', 202)).toBeLessThan(MARGIN_MS);
  });

  it("detects a concurrent change with the emulator's staging-label rules and keeps the first one", async () => {
    // Prepare: two operators read the same version.
    const readA = await readClients(secrets, secretId);
    const readB = await readClients(secrets, secretId);
    const changeA = applyClientChange(readA.document, { kind: 'add', clientId: 'operator-a' });
    const changeB = applyClientChange(readB.document, { kind: 'add', clientId: 'operator-b' });

    // Act
    await writeClients(secrets, secretId, readA, changeA.document);
    const second = writeClients(secrets, secretId, readB, changeB.document);

    // Assess
    await expect(second).rejects.toThrow(ConcurrentChangeError);
    const after = await readClients(secrets, secretId);
    expect(Object.keys(after.document.clients)).toContain('operator-a');
    expect(Object.keys(after.document.clients)).not.toContain('operator-b');
  });
});
