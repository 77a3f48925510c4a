import '../testing/handler-env';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ALBResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { sha256Hex } from '../shared/signing';
import { albEvent, lambdaContext, orderBody, signedRequest } from '../testing/fixtures';
import { handler } from './handler';

const dynamoMock = mockClient(DynamoDBDocumentClient);
const sfnMock = mockClient(SFNClient);
const secretsMock = mockClient(SecretsManagerClient);

const nowSeconds = () => Math.floor(Date.now() / 1000);

function request(body = JSON.stringify(orderBody({ order_id: 'order-1' }))) {
  return signedRequest({ body, timestamp: nowSeconds() });
}

beforeEach(() => {
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"clients":{"client-a":["secret-a"]}}' });
});

afterEach(() => {
  dynamoMock.reset();
  sfnMock.reset();
  secretsMock.reset();
});

const invoke = (event: Parameters<typeof handler>[0]): Promise<ALBResult> => handler(event, lambdaContext);

describe('publisher handler', () => {
  it('writes the order conditionally, starts the run and answers the ALB with 202', async () => {
    // Prepare
    dynamoMock.on(PutCommand).resolves({});
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    // Act
    const result = await invoke(albEvent(request(), { base64: true }));

    // Assess
    expect(result).toMatchObject({
      statusCode: 202,
      statusDescription: '202 Accepted',
      headers: { 'content-type': 'application/json', location: '/orders/order-1' },
      body: '{"order_id":"order-1","status":"ACCEPTED"}',
    });
    const put = dynamoMock.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      TableName: 'orders-table',
      ConditionExpression: 'attribute_not_exists(order_key)',
      Item: { order_key: 'client-a#order-1', order_id: 'order-1', client_id: 'client-a', status: 'ACCEPTED' },
    });
    const start = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start?.stateMachineArn).toBe(process.env.STATE_MACHINE_ARN);
    expect(start?.name).toMatch(/^[0-9a-f]{12}-order-1$/);
    expect(JSON.parse(start?.input ?? '{}')).toMatchObject({
      order: { order_id: 'order-1', client_id: 'client-a' },
    });
  });

  it('answers in multi-value form to a multi-value event', async () => {
    // Prepare
    dynamoMock.on(PutCommand).resolves({});
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    // Act
    const result = await invoke(albEvent(request(), { multiValue: true }));

    // Assess
    expect(result.statusCode).toBe(202);
    expect(result.multiValueHeaders?.location).toEqual(['/orders/order-1']);
  });

  it('keeps the ACCEPTED item, releases its start claim and answers 503 when StartExecution fails', async () => {
    // Prepare
    dynamoMock.on(PutCommand).resolves({});
    dynamoMock.on(UpdateCommand).resolves({});
    sfnMock.on(StartExecutionCommand).rejects(new Error('arn:aws:states:eu-west-1:123456789012 unreachable'));

    // Act
    const result = await invoke(albEvent(request()));

    // Assess
    expect(result.statusCode).toBe(503);
    expect(result.body).toBe('{"error":"service_unavailable"}');
    const claimedAt = dynamoMock.commandCalls(PutCommand)[0]?.args[0].input.Item?.started_at as number;
    expect(dynamoMock.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { order_key: 'client-a#order-1' },
      ConditionExpression: '#started = :claimed',
      // Older than the 15 s claim (RESTART_AFTER_SECONDS), so a retry may claim at once.
      ExpressionAttributeValues: { ':released': claimedAt - 15_001, ':claimed': claimedAt },
    });
  });

  it('derives an order id with the key from Secrets Manager, read once per sandbox', async () => {
    // Prepare
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'order-id-key' })
      .resolves({ SecretString: 'k'.repeat(64) });
    dynamoMock.on(PutCommand).resolves({});
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    // Act
    const first = await invoke(albEvent(request(JSON.stringify(orderBody()))));
    const second = await invoke(albEvent(request(JSON.stringify(orderBody({ customer_id: 'c-2' })))));

    // Assess
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    expect(JSON.parse(first.body ?? '{}').order_id).toMatch(/^[0-9a-f-]{36}$/);
    const keyReads = secretsMock
      .commandCalls(GetSecretValueCommand)
      .filter((call) => call.args[0].input.SecretId === 'order-id-key');
    expect(keyReads.length).toBeLessThanOrEqual(1);
  });

  it('treats an existing execution on a replay as started', async () => {
    // Prepare
    const replay = request();
    dynamoMock
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    dynamoMock.on(UpdateCommand).resolves({});
    dynamoMock.on(GetCommand).resolves({
      Item: {
        order_key: 'client-a#order-1',
        order_id: 'order-1',
        client_id: 'client-a',
        body_hash: sha256Hex(replay.body),
        status: 'ACCEPTED',
        created_at: '2026-01-01T00:00:00.000Z',
        updated_at: '2026-01-01T00:00:00.000Z',
        started_at: 0,
      },
    });
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));

    // Act
    const result = await invoke(albEvent(replay));

    // Assess
    expect(result.statusCode).toBe(202);
    expect(dynamoMock.commandCalls(GetCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
    expect(
      JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}'),
    ).toMatchObject({
      order: { created_at: '2026-01-01T00:00:00.000Z' },
    });
  });

  it('answers 503 when DynamoDB fails, without details', async () => {
    // Prepare
    dynamoMock.on(PutCommand).rejects(new Error('ProvisionedThroughputExceeded on arn:aws:dynamodb:...'));

    // Act
    const result = await invoke(albEvent(request()));

    // Assess
    expect(result.statusCode).toBe(503);
    expect(result.body).toBe('{"error":"service_unavailable"}');
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('answers the health check without touching AWS', async () => {
    // Act
    const result = await invoke(
      albEvent({ method: 'GET', path: '/health', headers: {}, query: {}, body: Buffer.alloc(0) }),
    );

    // Assess
    expect(result).toMatchObject({ statusCode: 200, body: '{"status":"ok"}' });
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('answers 503 to an event it cannot even adapt, instead of throwing', async () => {
    // Act
    const result = await invoke({} as Parameters<typeof handler>[0]);

    // Assess
    expect(result.statusCode).toBe(503);
  });
});
