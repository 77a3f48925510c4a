import { runSimulation } from '@cloud-copilot/iam-simulate';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  DeleteMessageBatchCommand,
  SQSClient,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import type { AwsClientConfig } from '../aws-config';
import type { TemplateSet } from '../cfn-template';

/** The service principal CloudWatch alarms publish as. */
export const CLOUDWATCH_PRINCIPAL = 'cloudwatch.amazonaws.com';

/** Whether CloudWatch may publish an alarm's notification to a topic, and why not. */
export interface PublishPermission {
  allowed: boolean;
  /** Which policy refused it: the topic's, or the key's the topic is encrypted with. */
  reason?: string;
}

type PolicyDocument = { Version?: string; Statement: unknown[] };

/**
 * Decides, with an IAM policy evaluator, whether CloudWatch may publish to a topic of the
 * template, as AWS would: the topic's access policy must allow `cloudwatch.amazonaws.com`
 * sns:Publish (a topic without an `AWS::SNS::TopicPolicy` keeps SNS's default policy, which
 * allows only the owning account), and when the topic is encrypted the key policy must allow the
 * same principal kms:GenerateDataKey* and kms:Decrypt
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 */
export class TopicPolicyCheck {
  constructor(
    private readonly templates: TemplateSet,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  async check(topicArn: string, alarmArn: string): Promise<PublishPermission> {
    const context = {
      'aws:SourceArn': alarmArn,
      'aws:SourceAccount': this.accountId,
      'aws:SecureTransport': 'true',
      'aws:PrincipalServiceName': CLOUDWATCH_PRINCIPAL,
    };
    const topicPolicy = this.topicPolicy(topicArn);
    if (!topicPolicy)
      return {
        allowed: false,
        reason:
          'the topic has no access policy for cloudwatch.amazonaws.com (SNS default policy: owner account only)',
      };
    const topicResult = await this.simulate('sns:Publish', topicArn, topicPolicy, context);
    if (topicResult !== 'Allowed')
      return { allowed: false, reason: `the topic policy refuses sns:Publish (${topicResult})` };
    const key = this.topicKey(topicArn);
    if (key) {
      for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        const keyResult = await this.simulate(action, key.arn, key.policy, context);
        if (keyResult !== 'Allowed')
          return { allowed: false, reason: `the topic's key policy refuses ${action} (${keyResult})` };
      }
    }
    return { allowed: true };
  }

  private async simulate(
    action: string,
    resource: string,
    policy: PolicyDocument,
    context: Record<string, string>,
  ): Promise<string> {
    const result = await runSimulation(
      {
        request: {
          principal: CLOUDWATCH_PRINCIPAL,
          action,
          resource: { resource, accountId: this.accountId },
          contextVariables: context,
        },
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: policy,
      },
      {},
    );
    return result.resultType === 'error'
      ? `simulation error: ${JSON.stringify(result.errors)}`
      : result.overallResult;
  }

  private topicPolicy(topicArn: string): PolicyDocument | undefined {
    const statements: unknown[] = [];
    for (const ref of this.templates.resourcesOfType('AWS::SNS::TopicPolicy')) {
      const props = this.templates.resolve(ref.stack, ref.resource.Properties ?? {}) as {
        Topics?: string[];
        PolicyDocument?: PolicyDocument;
      };
      if ((props.Topics ?? []).includes(topicArn))
        statements.push(...(props.PolicyDocument?.Statement ?? []));
    }
    return statements.length ? { Version: '2012-10-17', Statement: statements } : undefined;
  }

  private topicKey(topicArn: string): { arn: string; policy: PolicyDocument } | undefined {
    for (const topic of this.templates.resourcesOfType('AWS::SNS::Topic')) {
      if (this.templates.resolveString(topic.stack, { Ref: topic.logicalId }) !== topicArn) continue;
      const keyRef = topic.resource.Properties?.KmsMasterKeyId as
        { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined;
      if (!keyRef) return undefined;
      const logicalId = keyRef['Fn::GetAtt']?.[0] ?? keyRef.Ref;
      const key = this.templates.templates[topic.stack]?.Resources[logicalId ?? ''];
      const policy = this.templates.resolve(
        topic.stack,
        key?.Properties?.KeyPolicy ?? { Statement: [] },
      ) as PolicyDocument;
      return { arn: `arn:aws:kms:${this.region}:${this.accountId}:key/${logicalId}`, policy };
    }
    return undefined;
  }
}

/** A notification that reached the pager's subscription. */
export interface DeliveredNotification {
  topicArn: string;
  subject?: string;
  alarmName: string;
  newState: string;
  receivedAt: number;
}

/**
 * Stands in for the people an alarm pages: an SQS queue subscribed to each alarm topic in the
 * emulator (where the template subscribes an e-mail address), so a drill can see that the
 * notification went through the topic's subscriptions.
 */
export class Pager {
  private queueUrl = '';
  readonly delivered: DeliveredNotification[] = [];

  constructor(private readonly aws: AwsClientConfig) {}

  async subscribe(topicArns: readonly string[]): Promise<void> {
    const sqs = new SQSClient(this.aws);
    const sns = new SNSClient(this.aws);
    const created = await sqs.send(new CreateQueueCommand({ QueueName: 'local-pager' }));
    this.queueUrl = created.QueueUrl ?? '';
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = Attributes?.QueueArn ?? '';
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        Attributes: {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'sns.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
              },
            ],
          }),
        },
      }),
    );
    for (const topicArn of topicArns) {
      await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
    }
  }

  /** Reads what arrived since the last call. */
  async collect(clockNow: number): Promise<DeliveredNotification[]> {
    if (!this.queueUrl) return [];
    const sqs = new SQSClient(this.aws);
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = received.Messages ?? [];
    const fresh: DeliveredNotification[] = [];
    for (const message of messages) {
      const envelope = JSON.parse(message.Body ?? '{}') as {
        TopicArn?: string;
        Subject?: string;
        Message?: string;
      };
      const alarm = JSON.parse(envelope.Message ?? '{}') as { AlarmName?: string; NewStateValue?: string };
      fresh.push({
        topicArn: envelope.TopicArn ?? '',
        subject: envelope.Subject,
        alarmName: alarm.AlarmName ?? '',
        newState: alarm.NewStateValue ?? '',
        receivedAt: clockNow,
      });
    }
    if (messages.length) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
    }
    this.delivered.push(...fresh);
    return fresh;
  }
}

/** Publishes alarm notifications to the emulator's topics. */
export async function publishNotification(
  aws: AwsClientConfig,
  topicArn: string,
  subject: string,
  message: unknown,
): Promise<void> {
  await new SNSClient(aws).send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: subject.slice(0, 100),
      Message: JSON.stringify(message),
    }),
  );
}
