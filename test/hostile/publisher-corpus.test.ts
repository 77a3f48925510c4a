import { fromAlbEvent, toAlbResult } from '../../lambdas/shared/alb';
import { handleRequest, type PublisherDependencies } from '../../lambdas/publisher/app';
import {
  InMemoryOrderRepository,
  NOW,
  NOW_SECONDS,
  RecordingWorkflow,
  recordingMetrics,
  silentLogger,
} from '../../lambdas/testing/fixtures';
import type { ALBEvent } from 'aws-lambda';
import { hostileCorpus, type HostileCase } from './corpus';

const CLIENT = { clientId: 'client-a', secret: 'secret-a' };

/**
 * The ALB event of a case; repeated headers need the multi-value form to survive. A query string
 * in the case's path goes where the ALB puts it (parameters, still percent-encoded).
 */
function albEventOf(hostile: HostileCase): ALBEvent {
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of hostile.headers) (multiValueHeaders[name] ??= []).push(value);
  const [path = '', query] = hostile.path.split(/\?(.*)/s);
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const pair of (query ?? '').split('&').filter(Boolean)) {
    const [name = '', value = ''] = pair.split('=');
    (multiValueQueryStringParameters[name] ??= []).push(value);
  }
  return {
    requestContext: {
      elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/t/1' },
    },
    httpMethod: hostile.method,
    path,
    multiValueHeaders,
    multiValueQueryStringParameters,
    body: hostile.body.toString('base64'),
    isBase64Encoded: true,
  };
}

describe('hostile input, publisher core in-process', () => {
  const corpus = hostileCorpus(CLIENT, NOW_SECONDS);
  const setup = () => {
    const orders = new InMemoryOrderRepository();
    const workflow = new RecordingWorkflow();
    const deps: PublisherDependencies = {
      clientSecrets: () =>
        Promise.resolve(
          new Map([
            [CLIENT.clientId, [CLIENT.secret]],
            ['client-b', ['secret-of-another-client']],
          ]),
        ),
      orderIdKey: () => Promise.resolve('order-id-key-for-hostile-tests-0123456789'),
      restartAfterMs: 15_000,
      orders,
      workflow,
      now: () => NOW,
      logger: silentLogger(),
      metrics: recordingMetrics().metrics,
    };
    return { orders, workflow, deps };
  };

  it('has at least 200 distinct cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(new Set(corpus.map((hostile) => hostile.name)).size).toBe(corpus.length);
  });

  it.each(corpus.map((hostile) => [hostile.name, hostile] as const))(
    '%s: documented 4xx, nothing stored or started',
    async (_name, hostile) => {
      // Prepare
      const { orders, workflow, deps } = setup();
      // Act
      const result = toAlbResult(
        await handleRequest(fromAlbEvent(albEventOf(hostile)), deps),
        albEventOf(hostile),
      );
      // Assess
      expect(result.statusCode).toBe(hostile.expected);
      const body = JSON.parse(result.body ?? '') as { error: string };
      expect(typeof body.error).toBe('string');
      expect(result.body).not.toMatch(/arn:aws|secret-a|\n\s+at |Error:/);
      // At most 20 details, each path cut short: no answer grows with the attack.
      expect(result.body?.length ?? 0).toBeLessThan(4096);
      expect(orders.items.size).toBe(0);
      expect(workflow.started).toHaveLength(0);
    },
  );
});
