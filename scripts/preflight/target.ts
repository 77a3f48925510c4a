/**
 * The one adapter from this repository's configuration (environments/, environments/delivery)
 * and the environment's synthesized template to the {@link PreflightTarget} the checks read.
 */
import type { EnvironmentConfig } from '../../environments';
import type { DeliveryConfig } from '../../environments/delivery';
import {
  describePlaceholders,
  displayPath,
  placeholderFix,
  placeholdersFor,
  type Placeholder,
} from '../../environments/delivery-file';
import { ENTRY_METADATA_KEY } from '../../infra/constructs/order-pipeline-function';
import { OUTPUTS } from '../../infra/stacks/order-pipeline-stack';
import type { CfnTemplate } from '../../infra/stacks/synthesize';
import { LOCAL_ACCOUNT_ID } from '../local/aws-config';
import type { FunctionReservation, PreflightTarget } from './types';

/** The template cannot tell what the preflight needs from it. */
export class UnreadableTemplateError extends Error {
  override readonly name = 'UnreadableTemplateError';
}

/** The function that answers every order request. */
const ENTRY_FUNCTION = 'publisher';

/**
 * The bootstrap version the template requires: CDK's `CheckBootstrapVersion` rule asserts the
 * `BootstrapVersion` parameter is none of the versions it lists, all those below the minimum.
 */
export function requiredBootstrapVersion(template: CfnTemplate): number {
  const rule = (template.Rules as Record<string, { Assertions?: { Assert?: unknown }[] }> | undefined)
    ?.CheckBootstrapVersion;
  const assertion = rule?.Assertions?.[0]?.Assert as
    { 'Fn::Not'?: [{ 'Fn::Contains'?: [unknown[], unknown] }] } | undefined;
  const refused = assertion?.['Fn::Not']?.[0]?.['Fn::Contains']?.[0];
  if (!Array.isArray(refused) || refused.length === 0) {
    throw new UnreadableTemplateError(
      'the template has no CheckBootstrapVersion rule listing refused versions',
    );
  }
  return Math.max(...refused.map(Number)) + 1;
}

/** The SSM parameter holding the bootstrap version, and the qualifier in its name. */
export function bootstrapParameter(template: CfnTemplate): { versionParameter: string; qualifier: string } {
  const parameters = template.Parameters as Record<string, { Default?: string }> | undefined;
  const versionParameter = parameters?.BootstrapVersion?.Default ?? '';
  const qualifier = /^\/cdk-bootstrap\/([^/]+)\/version$/.exec(versionParameter)?.[1];
  if (!qualifier) {
    throw new UnreadableTemplateError(
      `the template's BootstrapVersion parameter names "${versionParameter}"`,
    );
  }
  return { versionParameter, qualifier };
}

/** Every function of the template with reserved concurrency, named by its handler folder. */
export function reservationsOf(template: CfnTemplate): FunctionReservation[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .flatMap(([logicalId, resource]) => {
      const reserved = resource.Properties?.ReservedConcurrentExecutions;
      if (reserved === undefined) return [];
      const entry = (resource.Metadata as Record<string, unknown> | undefined)?.[ENTRY_METADATA_KEY];
      return [{ name: typeof entry === 'string' ? entry : logicalId, reserved: Number(reserved) }];
    });
}

/** What the preflight adapter reads. */
export interface PreflightSources {
  readonly config: EnvironmentConfig;
  readonly delivery: DeliveryConfig;
  /** The environment's synthesized template (bundling skipped). */
  readonly template: CfnTemplate;
  readonly stackName: string;
  /** The delivery file in use and every placeholder it still holds. */
  readonly deliveryFile: { readonly path: string; readonly placeholders: readonly Placeholder[] };
}

/** Builds the target description of one environment. */
export function preflightTarget({
  config,
  delivery,
  template,
  stackName,
  deliveryFile,
}: PreflightSources): PreflightTarget {
  const local = config.name === 'local';
  const pipelined = delivery.pipelines.some((pipeline) =>
    pipeline.stages.some((stage) => stage.environment === config.name),
  );
  const deliveredAccount = (delivery.accounts as Partial<Record<string, string>>)[config.name];
  return {
    environment: config.name,
    region: config.region,
    account: local ? LOCAL_ACCOUNT_ID : (deliveredAccount ?? config.account),
    stackName,
    platform: local ? 'local' : 'aws',
    bootstrap: { ...bootstrapParameter(template), requiredVersion: requiredBootstrapVersion(template) },
    concurrency: {
      declaredQuota: config.lambda.accountConcurrency,
      reservations: reservationsOf(template),
    },
    domain: config.domain
      ? {
          name: config.domain.name,
          hostedZoneId: config.domain.hostedZone.id,
          hostedZoneName: config.domain.hostedZone.name,
          certificateArn: config.domain.certificateArn,
        }
      : undefined,
    delivery: pipelined
      ? { toolingAccount: delivery.toolingAccount, connectionArn: delivery.connectionArn }
      : undefined,
    placeholders: local
      ? undefined
      : {
          file: displayPath(deliveryFile.path),
          fields: describePlaceholders(
            placeholdersFor(deliveryFile.placeholders, { environments: [config.name], pipeline: pipelined }),
          ),
          fix: placeholderFix(deliveryFile.path),
        },
    alarmEmail: config.alarms.email,
    alarmTopicOutput: OUTPUTS.alarmTopicArn,
    smokeClientOutput: OUTPUTS.smokeClientSecretId,
    stress: {
      orders: config.stress.orders,
      concurrency: config.stress.concurrency,
      ratePerSecond: config.stress.ratePerSecond,
      workflowType: config.workflowType,
      waf: config.wafEnabled
        ? { perIp: config.wafRateLimit, perClient: config.wafClientRateLimit }
        : undefined,
      entryFunction: ENTRY_FUNCTION,
    },
  };
}
