import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { Data } from './data';
import type { FanOut } from './fan-out';

export interface OperatorAccessProps {
  readonly data: Data;
  readonly fanOut: FanOut;
}

/**
 * The managed policy an operator needs for the ops tools (README "Operations"), and nothing more:
 * - `npm run redrive`: StartMessageMoveTask / ListMessageMoveTasks on each DLQ, or its receive,
 *   send and delete loop (DLQ -> subscriber queue), and GetQueueAttributes for the depth;
 * - `npm run replay`: list and read the archive (orders/), publish to the orders topic or send to
 *   a subscriber queue;
 * - `npm run failed-orders`: query and scan the failed-orders table, and requeue a row's body;
 * with the keys usable only through the service that holds the data (kms:ViaService).
 * Attach it to the operators' role or permission set; `npm run verify:iam` proves it is enough.
 */
export class OperatorAccess extends Construct {
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorAccessProps) {
    super(scope, id);
    const { data, fanOut } = props;
    const region = Stack.of(this).region;
    const via = (service: string) => ({
      StringEquals: { 'kms:ViaService': `${service}.${region}.amazonaws.com` },
    });
    const deadLetterQueues = fanOut.deadLetterQueues.map((queue) => queue.queueArn);
    const queues = fanOut.subscribers.map((subscriber) => subscriber.queue.queueArn);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Operators of ${Stack.of(this).stackName}: redrive, replay and failed-orders tools`,
      statements: [
        new iam.PolicyStatement({
          sid: 'RedriveFromDeadLetterQueues',
          actions: [
            'sqs:StartMessageMoveTask',
            'sqs:ListMessageMoveTasks',
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
          ],
          resources: deadLetterQueues,
        }),
        new iam.PolicyStatement({
          sid: 'SendToSubscriberQueues',
          actions: ['sqs:SendMessage'],
          resources: queues,
        }),
        new iam.PolicyStatement({
          sid: 'UseQueueKeyThroughSqs',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [fanOut.queueKey.keyArn],
          conditions: via('sqs'),
        }),
        new iam.PolicyStatement({
          sid: 'ReplayToTopic',
          actions: ['sns:Publish'],
          resources: [fanOut.topic.topicArn],
        }),
        new iam.PolicyStatement({
          sid: 'UseTopicKeyThroughSns',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [fanOut.topicKey.keyArn],
          conditions: via('sns'),
        }),
        new iam.PolicyStatement({
          sid: 'ListArchive',
          actions: ['s3:ListBucket'],
          resources: [data.archiveBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadArchive',
          actions: ['s3:GetObject'],
          resources: [data.archiveBucket.arnForObjects('orders/*')],
        }),
        new iam.PolicyStatement({
          sid: 'ReadFailedOrders',
          actions: ['dynamodb:Query', 'dynamodb:Scan'],
          resources: [data.failedOrdersTable.tableArn],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptDataThroughDynamoDbAndS3',
          actions: ['kms:Decrypt'],
          resources: [data.key.keyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': ['dynamodb', 's3'].map((service) => `${service}.${region}.amazonaws.com`),
            },
          },
        }),
      ],
    });
  }
}
