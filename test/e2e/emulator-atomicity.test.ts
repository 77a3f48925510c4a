/**
 * The emulator keeps DynamoDB's atomicity under concurrent requests (scripts/local/moto_server.py).
 * Plain moto_server loses writes here: a cancelled transaction restores copies of whole tables
 * taken when it began, dropping what other requests wrote meanwhile. On the reliability run that
 * lost billing records and COMPLETED transitions that AWS would have kept.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { localAwsConfig } from '../../scripts/local/aws-config';
import { startEmulator, type Emulator } from '../../scripts/local/moto-server';

jest.setTimeout(120_000);

const TABLE = 'atomicity';
/** Enough items that copying the table takes long enough for other writes to land meanwhile. */
const SEED_ITEMS = 1500;

let emulator: Emulator;
let dynamodb: DynamoDBClient;

beforeAll(async () => {
  emulator = await startEmulator();
  dynamodb = new DynamoDBClient({ ...localAwsConfig(emulator.endpoint), maxAttempts: 1 });
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  const seed = Array.from({ length: SEED_ITEMS }, (_, index) => ({
    PutRequest: { Item: { pk: { S: `seed-${index}` }, payload: { S: 'x'.repeat(200) } } },
  }));
  for (let start = 0; start < seed.length; start += 25) {
    await dynamodb.send(
      new BatchWriteItemCommand({ RequestItems: { [TABLE]: seed.slice(start, start + 25) } }),
    );
  }
});

afterAll(async () => {
  dynamodb?.destroy();
  await emulator?.stop();
});

it('keeps every write made while concurrent transactions are cancelled', async () => {
  // Arrange: transactions whose condition fails (as billing's does on every redelivery).
  const cancelled = Array.from({ length: 10 }, (_, index) =>
    dynamodb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { pk: { S: `tx-${index}` } } } },
            {
              ConditionCheck: {
                TableName: TABLE,
                Key: { pk: { S: 'seed-0' } },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      )
      .then(
        () => 'committed',
        (error: unknown) => (error instanceof TransactionCanceledException ? 'cancelled' : error),
      ),
  );
  // Act: other writes at the same time.
  const writes = Array.from({ length: 100 }, (_, index) =>
    dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: `write-${index}` } } })),
  );
  const [outcomes] = await Promise.all([Promise.all(cancelled), Promise.all(writes)]);
  // Assess
  expect(outcomes).toEqual(cancelled.map(() => 'cancelled'));
  const missing: string[] = [];
  for (let index = 0; index < 100; index++) {
    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `write-${index}` } }, ConsistentRead: true }),
    );
    if (!Item) missing.push(`write-${index}`);
  }
  expect(missing).toEqual([]);
  const { Item: phantom } = await dynamodb.send(
    new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'tx-0' } }, ConsistentRead: true }),
  );
  expect(phantom).toBeUndefined();
});
