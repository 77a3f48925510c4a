/**
 * Turns one signed HTTP request to the emulator into the IAM actions AWS authorizes for it, with
 * the resource ARN of each and the request-specific condition keys. Local names stay as they are;
 * {@link ./recorder} makes them portable across environments.
 */

/** One IAM authorization a request needs. */
export interface AuthorizedAction {
  /** `service:Action` as IAM names it (DeleteMessageBatch is authorized as sqs:DeleteMessage). */
  action: string;
  resource: string;
  /** Condition keys taken from the request (S3 conditional-write headers, ...). */
  context: Record<string, string>;
}

/** What the recorder needs of a request. */
export interface RawRequest {
  method: string;
  /** Path and query string, as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Thrown for a request the parser does not know how to authorize: a gap to close, never skipped. */
export class UnknownRequestError extends Error {
  override readonly name = 'UnknownRequestError';
}

interface Scope {
  accessKeyId: string;
  region: string;
  service: string;
}

/** The access key, region and service of a SigV4-signed request; undefined if unsigned. */
export function signatureScope(headers: RawRequest['headers']): Scope | undefined {
  const authorization = header(headers, 'authorization');
  const match = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  if (!match) return undefined;
  const [, accessKeyId = '', region = '', service = ''] = match;
  return { accessKeyId, region, service };
}

/**
 * The IAM actions of a request. `account` is the emulator's account, used to build ARNs the
 * request names only by URL or name.
 */
export function authorizedActions(request: RawRequest, scope: Scope, account: string): AuthorizedAction[] {
  const target = header(request.headers, 'x-amz-target');
  const json = (): Record<string, unknown> =>
    request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
  const form = () => Object.fromEntries(new URLSearchParams(request.body));
  const arn = (service: string, rest: string) => `arn:aws:${service}:${scope.region}:${account}:${rest}`;
  const one = (action: string, resource: string, context: Record<string, string> = {}) => [
    { action, resource, context },
  ];
  switch (scope.service) {
    case 'dynamodb':
      return dynamodbActions(operationOf(target), json(), (table) => arn('dynamodb', `table/${table}`));
    case 'sqs': {
      const operation = target ? operationOf(target) : String(form().Action);
      const params = target ? json() : form();
      return sqsActions(operation, params, (name) => arn('sqs', name));
    }
    case 'sns': {
      const params = target ? json() : form();
      const operation = target ? operationOf(target) : String(params.Action);
      if (operation === 'Publish' || operation === 'PublishBatch')
        return one('sns:Publish', String(params.TopicArn));
      throw new UnknownRequestError(`SNS ${operation}`);
    }
    case 'secretsmanager': {
      const operation = operationOf(target);
      const secretId = String(json().SecretId);
      const resource = secretId.startsWith('arn:') ? secretId : arn('secretsmanager', `secret:${secretId}`);
      return one(`secretsmanager:${operation}`, resource);
    }
    case 'states': {
      const operation = operationOf(target);
      const params = json();
      if (operation === 'StartExecution' || operation === 'StartSyncExecution')
        return one(`states:${operation}`, String(params.stateMachineArn));
      if (operation === 'DescribeExecution')
        return one('states:DescribeExecution', String(params.executionArn));
      throw new UnknownRequestError(`Step Functions ${operation}`);
    }
    case 'cloudformation': {
      const params = form();
      return one(
        `cloudformation:${String(params.Action)}`,
        arn('cloudformation', `stack/${String(params.StackName)}/*`),
      );
    }
    case 's3':
      return s3Actions(request);
    default:
      throw new UnknownRequestError(`service ${scope.service}`);
  }
}

function operationOf(target: string | undefined): string {
  const operation = target?.split('.').pop();
  if (!operation) throw new UnknownRequestError('a JSON request without X-Amz-Target');
  return operation;
}

/**
 * DynamoDB authorizes a transaction or batch per item: each item of TransactWriteItems needs the
 * action of its kind (ConditionCheck -> dynamodb:ConditionCheckItem) on its table, while a batch
 * needs dynamodb:BatchGetItem / BatchWriteItem on each table it names.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
 */
function dynamodbActions(
  operation: string,
  params: Record<string, unknown>,
  tableArn: (table: string) => string,
): AuthorizedAction[] {
  const onTable = (action: string, table: unknown, index?: unknown) => ({
    action: `dynamodb:${action}`,
    resource: `${tableArn(String(table))}${index ? `/index/${String(index)}` : ''}`,
    context: {},
  });
  switch (operation) {
    case 'GetItem':
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
    case 'DescribeTable':
      return [onTable(operation, params.TableName)];
    case 'Query':
    case 'Scan':
      return [onTable(operation, params.TableName, params.IndexName)];
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((params.RequestItems ?? {}) as object).map((table) => onTable(operation, table));
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const kinds: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      };
      return ((params.TransactItems ?? []) as Array<Record<string, { TableName: string }>>).flatMap((item) =>
        Object.entries(item).map(([kind, body]) => {
          const action = kinds[kind];
          if (!action) throw new UnknownRequestError(`DynamoDB transaction item ${kind}`);
          return onTable(action, body.TableName);
        }),
      );
    }
    default:
      throw new UnknownRequestError(`DynamoDB ${operation}`);
  }
}

function sqsActions(
  operation: string,
  params: Record<string, unknown>,
  queueArn: (name: string) => string,
): AuthorizedAction[] {
  const byUrl = (url: unknown) => queueArn(String(url).split('/').pop() ?? '');
  const batched: Record<string, string> = {
    SendMessageBatch: 'SendMessage',
    DeleteMessageBatch: 'DeleteMessage',
    ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
  };
  switch (operation) {
    case 'GetQueueUrl':
      return [{ action: 'sqs:GetQueueUrl', resource: queueArn(String(params.QueueName)), context: {} }];
    case 'StartMessageMoveTask':
    case 'ListMessageMoveTasks':
    case 'CancelMessageMoveTask':
      return [{ action: `sqs:${operation}`, resource: String(params.SourceArn), context: {} }];
    default:
      return [
        { action: `sqs:${batched[operation] ?? operation}`, resource: byUrl(params.QueueUrl), context: {} },
      ];
  }
}

/**
 * S3 REST requests, path-style (the SDK uses it for an IP endpoint) or virtual-hosted. The
 * conditional-write headers become the condition keys s3:if-none-match / s3:if-match.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html
 */
function s3Actions(request: RawRequest): AuthorizedAction[] {
  const url = new URL(request.url, 'http://local');
  const host = header(request.headers, 'host') ?? '';
  const hostedBucket = /^([^.]+)\.(?!\d)/.exec(host)?.[1];
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const bucket = hostedBucket ?? parts.shift();
  const key = parts.join('/');
  if (!bucket) throw new UnknownRequestError(`S3 ${request.method} ${request.url} names no bucket`);
  const query = url.searchParams;
  const method = request.method.toUpperCase();
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const context: Record<string, string> = {};
  for (const name of ['if-none-match', 'if-match']) {
    const value = header(request.headers, name);
    if (value !== undefined) context[`s3:${name}`] = value;
  }
  if (!key) {
    if (method === 'GET' && query.has('versions'))
      return [{ action: 's3:ListBucketVersions', resource: bucketArn, context }];
    if (method === 'GET' || method === 'HEAD')
      return [{ action: 's3:ListBucket', resource: bucketArn, context }];
    throw new UnknownRequestError(`S3 ${method} on bucket ${bucket}`);
  }
  const objectArn = `${bucketArn}/${key}`;
  const versioned = query.has('versionId');
  switch (method) {
    case 'GET':
    case 'HEAD':
      return [{ action: versioned ? 's3:GetObjectVersion' : 's3:GetObject', resource: objectArn, context }];
    case 'PUT':
      return [{ action: 's3:PutObject', resource: objectArn, context }];
    case 'DELETE':
      return [
        { action: versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: objectArn, context },
      ];
    default:
      throw new UnknownRequestError(`S3 ${method} ${request.url}`);
  }
}

function header(headers: RawRequest['headers'], name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
