import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { LIFECYCLE, ORDER_KEY_SEPARATOR, TABLE_KEYS } from '../../lambdas/shared/runtime-contract';
import { grantKey } from './grants';

/** Errors Step Functions reports for throttling and transient service faults, per integration. */
export const RETRYABLE_ERRORS = {
  lambda: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.Unknown',
  ],
  dynamodb: [
    'DynamoDB.ProvisionedThroughputExceededException',
    'DynamoDB.ThrottlingException',
    'DynamoDB.RequestLimitExceeded',
    'DynamoDB.InternalServerErrorException',
  ],
  sns: ['SNS.ThrottledException', 'SNS.KMSThrottlingException', 'SNS.InternalErrorException'],
} as const;

/** A conditional write found the item already past the state it expected. */
export const CONDITIONAL_CHECK_FAILED = 'DynamoDB.ConditionalCheckFailedException';

export interface OrderWorkflowProps {
  /** Business validation (lambdas/validate). */
  readonly validateFunction: lambda.IFunction;
  readonly ordersTable: dynamodb.ITable;
  readonly failedOrdersTable: dynamodb.ITable;
  /** Where accepted orders are published (OrderPlaced events). */
  readonly topic: sns.ITopic;
  /** EXPRESS (default in every environment) or STANDARD. */
  readonly workflowType: 'EXPRESS' | 'STANDARD';
  /** The execution timeout in seconds (the environment's `workflowTimeoutSeconds`). */
  readonly timeoutSeconds: number;
  readonly logRetention: logs.RetentionDays;
  /** Execution logging: which history events reach the log group, with or without their data. */
  readonly logging: {
    readonly level: 'ALL' | 'ERROR' | 'FATAL' | 'OFF';
    readonly includeExecutionData: boolean;
  };
  readonly removalPolicy: RemovalPolicy;
}

const S = (value: string) => tasks.DynamoAttributeValue.fromString(value);
/** `<client_id>#<order_id>`, as orderKey() of runtime-contract.ts makes it. */
const orderKeyValue = () =>
  S(
    sfn.JsonPath.format(
      `{}${ORDER_KEY_SEPARATOR}{}`,
      sfn.JsonPath.stringAt('$.order.client_id'),
      sfn.JsonPath.stringAt('$.order.order_id'),
    ),
  );
const orderKey = { [TABLE_KEYS.orders.partitionKey]: orderKeyValue() };
const now = () => S(sfn.JsonPath.stringAt('$$.State.EnteredTime'));
const STATUS = { '#status': 'status' };
const errorPath = '$.error';

/**
 * The order workflow of docs/internals.md: Validate -> IsValid -> MarkRejected | StoreOrder ->
 * PublishOrder, with conditional writes so a re-run is harmless and every other
 * error recorded in the failed-orders table before the execution fails.
 */
export class OrderWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  /** The execution logging it was built with (the environment's setting). */
  public readonly logging: OrderWorkflowProps['logging'];
  /**
   * ARN of the state machine, built from its fixed name rather than referring to it: alarms a
   * canary watches cannot refer to the state machine, which refers to the `live` aliases whose
   * CodeDeploy update policies refer to those alarms (a cycle).
   */
  public readonly stateMachineArnByName: string;
  /** The business-validation Lambda the `Validate` state invokes. */
  public readonly validateFunction: lambda.IFunction;
  /** The execution timeout: no run is alive longer. */
  public readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: OrderWorkflowProps) {
    super(scope, id);
    const { ordersTable, failedOrdersTable } = props;
    this.validateFunction = props.validateFunction;
    this.logging = props.logging;
    this.timeout = Duration.seconds(props.timeoutSeconds);

    const retry = (state: sfn.TaskStateBase, errors: readonly string[]) =>
      state.addRetry({
        errors: [...errors],
        interval: Duration.seconds(1),
        backoffRate: 2,
        maxAttempts: 4,
        jitterStrategy: sfn.JitterType.FULL,
      });

    const failed = new sfn.Fail(this, 'Failed', {
      error: 'OrderFailed',
      cause: 'See the failed-orders table',
    });
    const markFailed = new tasks.DynamoUpdateItem(this, 'MarkFailed', {
      table: ordersTable,
      key: orderKey,
      // Terminal: out of the reconciler's pending index.
      updateExpression: `SET #status = :failed, updated_at = :now REMOVE ${LIFECYCLE.pendingShard}`,
      // Only before publishing: once StoreOrder made it PUBLISHED the event may be out, and its
      // outcome is the consumers' (a run that fails after that leaves it PUBLISHED, for a replay
      // or the reconciler to run again; a second run must not fail an order the first published).
      conditionExpression: '#status = :accepted',
      expressionAttributeNames: STATUS,
      expressionAttributeValues: {
        ':failed': S('FAILED'),
        ':accepted': S('ACCEPTED'),
        ':now': now(),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    retry(markFailed, RETRYABLE_ERRORS.dynamodb);
    // Past ACCEPTED (published, or terminal already): nothing left to mark.
    markFailed.addCatch(failed, { errors: [CONDITIONAL_CHECK_FAILED], resultPath: sfn.JsonPath.DISCARD });
    markFailed.next(failed);

    const recordFailure = new tasks.DynamoPutItem(this, 'RecordFailure', {
      table: failedOrdersTable,
      item: {
        [TABLE_KEYS.failedOrders.partitionKey]: orderKeyValue(),
        order_id: S(sfn.JsonPath.stringAt('$.order.order_id')),
        client_id: S(sfn.JsonPath.stringAt('$.order.client_id')),
        [TABLE_KEYS.failedOrders.sortKey]: S(sfn.JsonPath.format('workflow#{}', sfn.JsonPath.executionName)),
        source: S('workflow'),
        receive_count: tasks.DynamoAttributeValue.fromNumber(0),
        error: S(sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt(errorPath))),
        body: S(sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.order'))),
        failed_at: now(),
      },
      conditionExpression: 'attribute_not_exists(failure_id)',
      resultPath: sfn.JsonPath.DISCARD,
    });
    retry(recordFailure, RETRYABLE_ERRORS.dynamodb);
    // Recorded by an earlier run of this execution name: carry on marking the order.
    recordFailure.addCatch(markFailed, {
      errors: [CONDITIONAL_CHECK_FAILED],
      resultPath: sfn.JsonPath.DISCARD,
    });
    recordFailure.next(markFailed);

    const onUnrecoverable = (state: sfn.TaskStateBase) =>
      state.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: errorPath });

    const validate = new tasks.LambdaInvoke(this, 'Validate', {
      lambdaFunction: props.validateFunction,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath: '$.validation',
    });
    retry(validate, RETRYABLE_ERRORS.lambda);
    onUnrecoverable(validate);

    const alreadyDone = new sfn.Succeed(this, 'AlreadyDone');

    // DynamoDB wants a list of attribute values; this turns the reasons into [{"S": reason}, ...].
    const formatReasons = new sfn.Map(this, 'FormatReasons', {
      itemsPath: '$.validation.reasons',
      itemSelector: { 'S.$': '$$.Map.Item.Value' },
      resultPath: '$.reasonsAttribute',
    });
    formatReasons.itemProcessor(new sfn.Pass(this, 'ReasonAsAttribute'));
    const markRejected = new tasks.DynamoUpdateItem(this, 'MarkRejected', {
      table: ordersTable,
      key: orderKey,
      updateExpression: `SET #status = :rejected, reasons = :reasons, updated_at = :now REMOVE ${LIFECYCLE.pendingShard}`,
      conditionExpression: '#status = :accepted',
      expressionAttributeNames: STATUS,
      expressionAttributeValues: {
        ':rejected': S('REJECTED'),
        ':accepted': S('ACCEPTED'),
        ':reasons': tasks.DynamoAttributeValue.listFromJsonPath(sfn.JsonPath.stringAt('$.reasonsAttribute')),
        ':now': now(),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    retry(markRejected, RETRYABLE_ERRORS.dynamodb);
    markRejected.addCatch(alreadyDone, {
      errors: [CONDITIONAL_CHECK_FAILED],
      resultPath: sfn.JsonPath.DISCARD,
    });
    onUnrecoverable(markRejected);
    formatReasons.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: errorPath });

    const publishOrder = new tasks.SnsPublish(this, 'PublishOrder', {
      topic: props.topic,
      message: sfn.TaskInput.fromObject({
        version: 1,
        type: 'OrderPlaced',
        order: sfn.JsonPath.objectAt('$.validation.order'),
      }),
      messageAttributes: {
        type: { value: 'OrderPlaced' },
        market: { value: sfn.JsonPath.stringAt('$.validation.order.market') },
        currency: { value: sfn.JsonPath.stringAt('$.validation.order.currency') },
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    retry(publishOrder, RETRYABLE_ERRORS.sns);
    onUnrecoverable(publishOrder);

    // Stored and published in one write, before the event goes out (issue 14: one update where
    // there were StoreOrder and MarkPublished): from here on the event may be out, so MarkRejected
    // and MarkFailed (conditioned on ACCEPTED) no longer apply, and a failure after it leaves the
    // order PUBLISHED for a replay or the reconciler. A re-run of a PUBLISHED order passes and
    // publishes again (the run before it may have died before publishing; the consumers are
    // idempotent). The consumers' writes need PUBLISHED, so they never run ahead of it.
    const storeOrder = new tasks.DynamoUpdateItem(this, 'StoreOrder', {
      table: ordersTable,
      key: orderKey,
      updateExpression: 'SET total_amount = :total, #status = :published, updated_at = :now',
      conditionExpression: '#status IN (:accepted, :published) AND body_hash = :hash',
      expressionAttributeNames: STATUS,
      expressionAttributeValues: {
        ':total': tasks.DynamoAttributeValue.numberFromString(
          sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.validation.order.total_amount')),
        ),
        ':accepted': S('ACCEPTED'),
        ':published': S('PUBLISHED'),
        ':hash': S(sfn.JsonPath.stringAt('$.order.body_hash')),
        ':now': now(),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    retry(storeOrder, RETRYABLE_ERRORS.dynamodb);
    // The order is past publishing (it completed, or it ended): nothing to publish.
    storeOrder.addCatch(alreadyDone, {
      errors: [CONDITIONAL_CHECK_FAILED],
      resultPath: sfn.JsonPath.DISCARD,
    });
    onUnrecoverable(storeOrder);

    const definition = validate.next(
      new sfn.Choice(this, 'IsValid')
        .when(
          sfn.Condition.booleanEquals('$.validation.valid', true),
          storeOrder.next(publishOrder).next(new sfn.Succeed(this, 'Published')),
        )
        .otherwise(formatReasons.next(markRejected).next(new sfn.Succeed(this, 'Rejected'))),
    );

    // Step Functions adds each logging state machine's group to the account's CloudWatch Logs
    // resource policy, which is capped at 5,120 characters; groups under /aws/vendedlogs/ do not
    // grow it (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html).
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-orders`,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    // The name carries the type, the one other property whose change replaces the state machine, so
    // a replacement never collides with the fixed name of the machine it replaces.
    const stateMachineName = `${Stack.of(this).stackName}-orders-${props.workflowType.toLowerCase()}`;
    this.stateMachineArnByName = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType:
        props.workflowType === 'EXPRESS' ? sfn.StateMachineType.EXPRESS : sfn.StateMachineType.STANDARD,
      timeout: this.timeout,
      tracingEnabled: true,
      logs: {
        destination: this.logGroup,
        level: sfn.LogLevel[props.logging.level],
        includeExecutionData: props.logging.includeExecutionData,
      },
    });
    // The tables and topic are encrypted with customer-managed keys; the role uses them directly.
    for (const key of new Set([ordersTable.encryptionKey, failedOrdersTable.encryptionKey])) {
      if (key) grantKey(this.stateMachine, key, ['Decrypt', 'Encrypt', 'GenerateDataKey']);
    }
    if (props.topic.masterKey)
      grantKey(this.stateMachine, props.topic.masterKey, ['Decrypt', 'GenerateDataKey']);
  }
}
