import { startLocalStack } from './local/stack';
import { OrderClient } from './lib/order-client';
(async () => {
  const stack = await startLocalStack({ port: 0, writeStateFile: false, logLevel: 'INFO' });
  const client = new OrderClient({
    url: stack.url,
    clientId: stack.client.clientId,
    secret: stack.client.secret,
  });
  const r = await client.submit(
    '{"customer_id":"cust-1","currency":"USD","market":"us","items":[{"product_id":"sku-1","quantity":2,"unit_price":1999}]}',
  );
  console.log(r.status, r.body);
  const id = (r.body as { order_id: string }).order_id;
  const final = await client.waitForTerminal(id, {
    deadlineMs: 15000,
    onStatus: (s) => console.log('status', s),
  });
  console.log(final);
  await stack.stop();
})().catch((e) => {
  console.error('FAILED', e);
  process.exit(1);
});
