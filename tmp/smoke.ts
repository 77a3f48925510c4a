import { startLocalStack } from '../scripts/local/stack';
import { startMonitoring } from '../scripts/local/alarms/monitoring';
import { OrderClient } from '../scripts/lib/order-client';
async function main() {
  const t0 = Date.now();
  const stack = await startLocalStack({ port: 0, writeStateFile: false, emitMetrics: true, logLevel: 'INFO', onProgress: (m) => console.log(Date.now() - t0, m) });
  for (const fn of stack.functions) { const orig = fn.invoke.bind(fn); fn.invoke = (e) => orig(e).catch((err) => { console.log('FNERR', fn.spec.entry, err.name, err.message); throw err; }); }
  console.log('started in', Date.now() - t0);
  const mon = await startMonitoring(stack, { speed: 30, onTransition: (t) => console.log('TRANSITION', t.alarm.logicalId, t.from, '->', t.to, JSON.stringify(t.actions)), onNotification: (n) => console.log('PAGED', n.alarmName, n.newState) });
  const client = new OrderClient({ url: stack.url, clientId: stack.client.clientId, secret: stack.client.secret });
  for (let i = 0; i < 5; i++) {
    const body = JSON.stringify({ order_id: `o-${Date.now()}-${i}`, customer_id: 'c', currency: 'USD', market: 'us', items: [{ product_id: 'p', quantity: 1, unit_price: 100 }] });
    const r = await client.submit(body); console.log(r.status);
  }
  await new Promise((r) => setTimeout(r, 8000));
  for (const m of mon.cloudWatch.store.metrics()) if (m.metricName.startsWith('Approx')) console.log(m.metricName, m.dimensions.QueueName, mon.cloudWatch.store.datapoints(m).map((d) => d.value.toFixed(0)).join(' '));
  console.log(mon.alarms.alarms.map((a) => `${a.logicalId} ${a.metric?.namespace} ${a.metric?.metricName} ${JSON.stringify(a.metric?.dimensions)} ${a.metric?.statistic}`).join('\n'));
  console.log(mon.alarms.status().map((s) => `${s.logicalId} ${s.state}`).join('\n'));
  await mon.stop(); await stack.stop();
}
main().catch((e) => { console.error(e); process.exit(1); });
