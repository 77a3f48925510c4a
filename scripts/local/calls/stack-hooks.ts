import type { AwsClientConfig } from '../aws-config';
import type { AlbAction } from '../alb';
import type { ResourceRef, TemplateSet } from '../cfn-template';
import type { LocalFunction } from '../lambda-runtime';
import { refOf } from './derived-calls';
import { credentialsFor, type Principal } from './principals';
import type { CallRecorder } from './recorder';

/**
 * The few places the local stack hands each caller its principal. Every caller signs with its own
 * fake access key whether or not a recorder runs, so the stack behaves the same either way.
 */

/** The logical id of the role a function or state machine runs with (its Role / RoleArn). */
export function roleOf(ref: ResourceRef): string {
  const props = ref.resource.Properties ?? {};
  const role = refOf(props.Role ?? props.RoleArn);
  if (!role) throw new Error(`${ref.logicalId} names no role of the template`);
  return role;
}

/** SDK settings that sign as `principal`. */
export function signingAs(aws: AwsClientConfig, principal: Principal): AwsClientConfig {
  return { ...aws, credentials: credentialsFor(principal) };
}

/** The access key variables of a handler running with `role` inside the VPC. */
export function handlerCredentials(role: string): Record<string, string> {
  const { accessKeyId, secretAccessKey } = credentialsFor({ kind: 'role', role, origin: 'vpc' });
  return { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey };
}

/**
 * Records the state machine's Lambda tasks: lambda:InvokeFunction by its role on the invoke target
 * (the alias where an environment has one).
 */
export function stateMachineInvokeRecorder(
  recorder: CallRecorder | undefined,
  role: string,
  functions: Map<string, LocalFunction>,
  logicalIdOf: (fn: LocalFunction) => string,
): ((arnOrName: string) => void) | undefined {
  if (!recorder) return undefined;
  return (arnOrName) => {
    const fn =
      functions.get(arnOrName) ??
      [...functions.values()].find((candidate) => candidate.spec.name === arnOrName);
    if (!fn) return;
    recorder.record({
      principal: { kind: 'role', role, origin: 'service' },
      action: 'lambda:InvokeFunction',
      resource: `\${InvokeTarget:${logicalIdOf(fn)}}`,
      portable: true,
    });
  };
}

/**
 * Records the load balancer invoking its targets: elasticloadbalancing.amazonaws.com under the
 * function's resource policy, with the target group as aws:SourceArn.
 */
export function recordLoadBalancerInvocations(
  recorder: CallRecorder | undefined,
  actions: AlbAction[],
  templates: TemplateSet,
  logicalIdOf: (fn: LocalFunction) => string,
): void {
  if (!recorder) return;
  const targetGroups = templates.resourcesOfType('AWS::ElasticLoadBalancingV2::TargetGroup');
  for (const action of actions) {
    if (action.type !== 'forward') continue;
    const group = targetGroups.find(
      (ref) => templates.resolveString(ref.stack, { Ref: ref.logicalId }) === action.targetGroupArn,
    );
    const fn = action.fn;
    const functionId = logicalIdOf(fn);
    const invoke = (event: unknown) => {
      recorder.record({
        principal: { kind: 'service', service: 'elasticloadbalancing.amazonaws.com' },
        action: 'lambda:InvokeFunction',
        resource: `\${InvokeTarget:${functionId}}`,
        context: {
          'aws:SourceArn': `\${${group?.logicalId ?? 'UnknownTargetGroup'}}`,
          'aws:SourceAccount': '${AWS::AccountId}',
        },
        portable: true,
      });
      return fn.invoke(event);
    };
    action.fn = Object.create(fn, { invoke: { value: invoke } }) as LocalFunction;
  }
}
