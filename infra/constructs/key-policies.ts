import { Stack, type IAspect } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';

interface PolicyStatementJson {
  Principal?: { Service?: unknown };
  Condition?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/**
 * Conditions every key-policy statement that allows an AWS service principal on
 * `aws:SourceAccount` = the stack's account, unless it already names one. A service principal is
 * shared by every AWS account; without the condition, a resource of another account that the
 * service acts for could use this key (the confused-deputy problem,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). It also covers
 * statements CDK writes for us, such as the SNS grant an SQS subscription adds to the queue key.
 */
export class ServicePrincipalsFromThisAccount implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof kms.CfnKey)) return;
    const stack = Stack.of(node);
    const policy = stack.resolve(node.keyPolicy) as { Statement?: PolicyStatementJson[] } | undefined;
    if (!policy?.Statement) return;
    let changed = false;
    for (const statement of policy.Statement) {
      if (statement.Principal?.Service === undefined) continue;
      const conditions = statement.Condition ?? {};
      const named = Object.values(conditions).some((operator) => 'aws:SourceAccount' in operator);
      if (named) continue;
      conditions.StringEquals = { ...conditions.StringEquals, 'aws:SourceAccount': stack.account };
      statement.Condition = conditions;
      changed = true;
    }
    if (changed) node.keyPolicy = policy;
  }
}
