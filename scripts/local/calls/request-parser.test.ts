import { authorizedActions, signatureScope, UnknownRequestError, type RawRequest } from './request-parser';

const signed = (service: string, extra: Record<string, string> = {}) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=AKROLEVRole1/20261201/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`,
  ...extra,
});
const actionsOf = (request: RawRequest) => {
  const scope = signatureScope(request.headers);
  if (!scope) throw new Error('unsigned');
  return authorizedActions(request, scope, '123456789012');
};

describe('request parser: the IAM actions of a signed request', () => {
  it('reads the access key, region and service of the SigV4 scope', () => {
    // Assess
    expect(signatureScope(signed('sqs'))).toEqual({
      accessKeyId: 'AKROLEVRole1',
      region: 'us-east-1',
      service: 'sqs',
    });
    expect(signatureScope({})).toBeUndefined();
  });

  it('authorizes each item of a DynamoDB transaction with the action of its kind', () => {
    // Act
    const actions = actionsOf({
      method: 'POST',
      url: '/',
      headers: signed('dynamodb', { 'x-amz-target': 'DynamoDB_20120810.TransactWriteItems' }),
      body: JSON.stringify({
        TransactItems: [
          { Put: { TableName: 'billing' } },
          { Update: { TableName: 'orders' } },
          { ConditionCheck: { TableName: 'orders' } },
        ],
      }),
    });
    // Assess
    expect(actions.map((entry) => `${entry.action} ${entry.resource}`)).toEqual([
      'dynamodb:PutItem arn:aws:dynamodb:us-east-1:123456789012:table/billing',
      'dynamodb:UpdateItem arn:aws:dynamodb:us-east-1:123456789012:table/orders',
      'dynamodb:ConditionCheckItem arn:aws:dynamodb:us-east-1:123456789012:table/orders',
    ]);
  });

  it('authorizes SQS batches as their single action, on the queue of the URL', () => {
    // Act
    const [action] = actionsOf({
      method: 'POST',
      url: '/',
      headers: signed('sqs', { 'x-amz-target': 'AmazonSQS.DeleteMessageBatch' }),
      body: JSON.stringify({ QueueUrl: 'http://127.0.0.1:5000/123456789012/billing-queue', Entries: [] }),
    });
    // Assess
    expect(action).toEqual({
      action: 'sqs:DeleteMessage',
      resource: 'arn:aws:sqs:us-east-1:123456789012:billing-queue',
      context: {},
    });
  });

  it('keeps the S3 conditional-write header as the s3:if-none-match condition key', () => {
    // Act
    const [action] = actionsOf({
      method: 'PUT',
      url: '/archive/orders/2026/12/01/c/o.json?x-id=PutObject',
      headers: signed('s3', { 'if-none-match': '*', host: '127.0.0.1:5000' }),
      body: '{}',
    });
    // Assess
    expect(action).toEqual({
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::archive/orders/2026/12/01/c/o.json',
      context: { 's3:if-none-match': '*' },
    });
  });

  it('refuses a request it cannot authorize instead of skipping it', () => {
    // Assess
    expect(() =>
      actionsOf({
        method: 'POST',
        url: '/',
        headers: signed('dynamodb', { 'x-amz-target': 'DynamoDB_20120810.ExecuteStatement' }),
        body: '{}',
      }),
    ).toThrow(UnknownRequestError);
  });
});
