/**
 * Grants (and interface endpoints) no recorded scenario uses, each with the reason it stays.
 * `npm run verify:iam` fails on an unused grant or endpoint missing here, and on an entry that no
 * longer matches anything, so the file cannot rot. Keys: `<principal> | <action> | <resource as
 * the template writes it>` or `endpoint | <service>`; `*` stands for any text.
 *
 * Entries whose reason starts with FINDING are grants or endpoints the run shows to be more than
 * the pipeline needs: each names the owner who should remove it.
 */
export const UNUSED_GRANT_ACKNOWLEDGEMENTS: Readonly<Record<string, string>> = {
  // AWS calls these with the execution role; the local stack has no ENI, log agent or X-Ray daemon.
  'role:*FunctionRole* | ec2:* | *':
    'Lambda creates and deletes the VPC network interfaces of a VPC function with its execution role ' +
    '(https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions).',
  'role:*FunctionRole* | logs:* | ${*FunctionLogGroup*.Arn}':
    "Lambda's runtime writes the function's logs to its log group with the execution role.",
  'role:* | xray:* | *':
    'Active tracing: the X-Ray daemon (functions) and Step Functions send segments with the role; the local ' +
    'stack runs with tracing off.',
  'role:WorkflowStateMachineRole* | logs:* | *':
    'Step Functions sets up log delivery to the workflow log group with the role when the logging ' +
    'configuration is created or updated (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).',

  // Paths the scenarios do not take.
  'role:WorkflowStateMachineRole* | dynamodb:PutItem | *${DataFailedOrdersTable*}':
    'RecordFailure: a workflow step failing after its retries; no scenario fails a workflow step.',
  'role:WorkflowStateMachineRole* | lambda:InvokeFunction | ${ValidateFunction*.Arn}:*':
    "CDK's LambdaInvoke grant covers the function's versions and aliases: prod invokes the live alias (used " +
    'there), dev and staging the function.',
  'role:DlqFunctionRole* | sqs:DeleteMessage | ${FanOut*DeadLetterQueue*.Arn}':
    'The DLQ handler deletes from each of the four DLQs it consumes; the scenarios dead-letter through the ' +
    "archive queue's DLQ only (billing's DLQ is kept for the redrive tool).",
  'role:ArchiveFunctionRole* | s3:DeleteObject | ${DataArchiveBucket*.Arn}/orders/*':
    'Archive takes back (a delete marker) the object it wrote when its flag write then finds the order FAILED or REJECTED ' +
    '(archive-order.ts); no scenario delivers an archive event to an order that failed before archive ran ' +
    '(test/e2e/interleavings.test.ts, case 4, does).',
  'role:ArchiveFunctionRole* | dynamodb:GetItem | ${DataOrdersTable*.Arn}':
    'Read around taking an object back (above); also, the archive version before this one reads the order ' +
    'before every object, and a canary deployment runs it on this role.',
  'operator | sqs:* | ${FanOut*DeadLetterQueue*.Arn}':
    'The redrive tool works on every DLQ (--queue all); the scenarios redrive the billing DLQ. ' +
    'ListMessageMoveTasks: moto has no message move tasks, so the tool falls back to receive-send-delete locally.',
  'service:sns.amazonaws.com | sqs:SendMessage | ${FanOut*SubscriptionDeadLetterQueue*.Arn}':
    "SNS sends to a subscription's DLQ only when it cannot deliver to the queue; the local emulator always delivers.",
  'post-deploy | cloudformation:DescribeStacks | ${AWS::StackId}':
    'The stress and smoke tool reads the stack outputs with DescribeStacks on AWS; the local stack hands it the ' +
    'outputs directly.',

  // A deployment's overlap: the version before this one runs on the same role during a canary.
  'role:BillingFunctionRole* | dynamodb:GetItem | *':
    'FINDING (subscribers.ts, owner i14): this billing version reads nothing, but the version before it reads ' +
    'both items after its transaction, and a canary deployment (CodeDeploy, 10 % for 5 minutes, longer on a ' +
    'rollback) runs that version on this role; remove in the release after this one.',

  // FINDINGS: grants or endpoints the pipeline does not need, left to their owners.
  'role:*Role* | kms:Encrypt | ${DataKey*.Arn}':
    'FINDING (grants.ts grantItemActions, owner i16): DynamoDB uses a customer-managed key for item reads and ' +
    'writes with kms:Decrypt of the table key only; kms:Encrypt is never called on the callers behalf.',
  ...Object.fromEntries(
    [
      'BillingFunctionRole',
      'DlqFunctionRole',
      'PublisherFunctionRole',
      'ReconcilerFunctionRole',
      'WorkflowStateMachineRole',
    ].map((role) => [
      `role:${role}* | kms:GenerateDataKey | \${DataKey*.Arn}`,
      'FINDING (grants.ts grantItemActions, owner i16): as kms:Encrypt, DynamoDB item writes need only ' +
        "kms:Decrypt (the archive consumer's GenerateDataKey, for S3, is used).",
    ]),
  ),
  'role:*FunctionRole* | sqs:ChangeMessageVisibility | ${FanOut*.Arn}':
    "FINDING (fan-out.ts, CDK SqsEventSource's grantConsumeMessages): Lambda's SQS poller needs ReceiveMessage, " +
    'DeleteMessage and GetQueueAttributes only.',
  'role:*FunctionRole* | sqs:GetQueueUrl | ${FanOut*.Arn}':
    "FINDING (fan-out.ts, CDK SqsEventSource's grantConsumeMessages): nothing resolves a queue URL by name.",
  'post-deploy | dynamodb:GetItem | *':
    'FINDING (post-deploy-access.ts, owner i11): the stress tool reads with BatchGetItem and Query.',
  'post-deploy | dynamodb:BatchGetItem | ${DataBillingTable*.Arn}':
    'FINDING (post-deploy-access.ts, owner i11): the stress tool batch-reads the orders table only.',
  'post-deploy | dynamodb:BatchGetItem | ${DataFailedOrdersTable*.Arn}':
    'FINDING (post-deploy-access.ts, owner i11): the stress tool batch-reads the orders table only.',
  'post-deploy | dynamodb:Query | ${DataOrdersTable*.Arn}':
    'FINDING (post-deploy-access.ts, owner i11): the stress tool queries billing and failed-orders only.',
  'post-deploy | s3:GetObject | ${DataArchiveBucket*.Arn}/orders/*':
    'FINDING (post-deploy-access.ts, owner i11): the stress tool lists object versions; it reads no object.',
  'post-deploy | s3:ListBucket | ${DataArchiveBucket*.Arn}':
    'FINDING (post-deploy-access.ts, owner i11): the stress tool uses ListObjectVersions (s3:ListBucketVersions).',
  'post-deploy | sqs:GetQueueAttributes | ${FanOut*SubscriptionDeadLetterQueue*.Arn}':
    'FINDING (post-deploy-access.ts, owner i11): the stress tool reads the depth of the queue DLQs (stack outputs), not of the subscription DLQs.',
  'endpoint | xray':
    'Active tracing: the X-Ray daemon of each VPC function sends segments through the VPC; the local stack traces nothing.',
};
