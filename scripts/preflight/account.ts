/**
 * Checks of the target account itself: whose credentials these are, the CDK bootstrap (present,
 * recent enough, trusting the tooling account) and the Lambda concurrency quota.
 */
import { GetAccountSettingsCommand } from '@aws-sdk/client-lambda';
import { GetRoleCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { GetParameterCommand, ParameterNotFound } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { UNRESERVED_CONCURRENCY_MINIMUM } from '../../environments';
import { actionMatches, actionsOf, asArray, statementsOf } from '../../infra/deploy-rules/template';
import { failedCall } from './aws-errors';
import type { CheckResult, DeployedStack, PreflightClients, PreflightTarget } from './types';

/** Service Quotas code of Lambda's "Concurrent executions" (default 1,000 per Region). */
export const LAMBDA_CONCURRENCY_QUOTA_CODE = 'L-B99A9384';

/**
 * The bootstrap roles a cross-account pipeline assumes in the target account: CloudFormation
 * deploys through the deploy role, the asset steps upload through the file-publishing role, and
 * the pipeline's preflight step reads through the lookup role (ReadOnlyAccess).
 */
export const TRUSTED_BOOTSTRAP_ROLES = ['deploy', 'file-publishing', 'lookup'] as const;

/** The bootstrap role `cdk-<qualifier>-<kind>-role-<account>-<region>` (the bootstrap template's names). */
export function bootstrapRoleName(
  kind: (typeof TRUSTED_BOOTSTRAP_ROLES)[number],
  qualifier: string,
  account: string,
  region: string,
): string {
  return `cdk-${qualifier}-${kind}-role-${account}-${region}`;
}

/**
 * The credentials belong to the environment's account; every other check would otherwise look at
 * the wrong account. Returns the account the credentials are for, when STS answered.
 */
export async function checkCredentials(
  clients: Pick<PreflightClients, 'sts'>,
  target: PreflightTarget,
): Promise<{ result: CheckResult; account?: string }> {
  const check = 'credentials';
  let account: string | undefined;
  try {
    account = (await clients.sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch (error) {
    return { result: failedCall(check, 'sts:GetCallerIdentity', error) };
  }
  if (!account) {
    return {
      result: { check, status: 'fail', summary: 'STS named no account', fix: 'check the credentials' },
    };
  }
  if (target.account && account !== target.account) {
    return {
      account,
      result: {
        check,
        status: 'fail',
        summary: `the credentials are for account ${account}, but ${target.environment} deploys to ${target.account}`,
        fix: `use a profile of account ${target.account} (--profile), or correct the account in the configuration`,
      },
    };
  }
  return {
    account,
    result: {
      check,
      status: 'pass',
      summary: target.account
        ? `credentials are for account ${account}, the one ${target.environment} deploys to`
        : `credentials are for account ${account} (${target.environment} names no account: this one is checked)`,
    },
  };
}

/** The bootstrap version parameter exists and is at least what the synthesized template requires. */
export async function checkBootstrapVersion(
  clients: Pick<PreflightClients, 'ssm'>,
  target: PreflightTarget,
  account: string,
): Promise<CheckResult> {
  const check = 'bootstrap.version';
  const { versionParameter, requiredVersion } = target.bootstrap;
  const bootstrap = `npx cdk bootstrap aws://${account}/${target.region}${
    target.delivery ? ` --trust ${target.delivery.toolingAccount}` : ''
  } --cloudformation-execution-policies <policy ARN> (README, Deploying)`;
  let value: string | undefined;
  try {
    value = (await clients.ssm.send(new GetParameterCommand({ Name: versionParameter }))).Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) {
      return {
        check,
        status: 'fail',
        summary: `account ${account} is not bootstrapped in ${target.region} (no ${versionParameter})`,
        fix: bootstrap,
      };
    }
    return failedCall(check, 'ssm:GetParameter', error);
  }
  const version = Number(value);
  if (!Number.isInteger(version)) {
    return {
      check,
      status: 'fail',
      summary: `${versionParameter} holds "${value ?? ''}", not a version number`,
      fix: bootstrap,
    };
  }
  if (version < requiredVersion) {
    return {
      check,
      status: 'fail',
      summary: `bootstrap version ${version} is older than the ${requiredVersion} this aws-cdk-lib's templates require`,
      fix: `bootstrap again with this repository's CDK CLI: ${bootstrap}`,
    };
  }
  return {
    check,
    status: 'pass',
    summary: `bootstrap version ${version} (${versionParameter}) >= ${requiredVersion} required by the templates`,
  };
}

/** Whether a trust policy lets `account` (its root, that is any principal it allows) assume the role. */
export function trustsAccount(policyDocument: string, account: string): boolean {
  // IAM returns the document URL-encoded (RFC 3986).
  const statements = statementsOf(JSON.parse(decodeURIComponent(policyDocument)));
  const root = new RegExp(`^(arn:aws[a-z-]*:iam::${account}:root|${account})$`);
  return statements.some((statement) => {
    if (statement.Effect !== 'Allow' || !actionMatches(actionsOf(statement), 'sts:AssumeRole')) return false;
    const principal = statement.Principal as string | { AWS?: string | string[] } | undefined;
    const principals = typeof principal === 'string' ? [principal] : asArray(principal?.AWS);
    return principals.some((arn) => root.test(arn));
  });
}

/** The bootstrap roles a pipeline in the tooling account assumes trust that account. */
export async function checkBootstrapTrust(
  clients: Pick<PreflightClients, 'iam'>,
  target: PreflightTarget,
  account: string,
): Promise<CheckResult> {
  const check = 'bootstrap.trust';
  if (!target.delivery) {
    return {
      check,
      status: 'skip',
      summary: `no pipeline deploys ${target.environment}: nothing outside this account must be trusted`,
    };
  }
  const tooling = target.delivery.toolingAccount;
  if (tooling === account) {
    return {
      check,
      status: 'pass',
      summary: `the pipeline runs in this account (${account}): the bootstrap roles trust it by default`,
    };
  }
  const untrusting: string[] = [];
  for (const kind of TRUSTED_BOOTSTRAP_ROLES) {
    const roleName = bootstrapRoleName(kind, target.bootstrap.qualifier, account, target.region);
    try {
      const role = (await clients.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
      if (!trustsAccount(role?.AssumeRolePolicyDocument ?? '{}', tooling)) untrusting.push(roleName);
    } catch (error) {
      if (error instanceof NoSuchEntityException) untrusting.push(`${roleName} (missing)`);
      else return failedCall(check, 'iam:GetRole', error);
    }
  }
  if (untrusting.length > 0) {
    return {
      check,
      status: 'fail',
      summary: `not trusted by the tooling account ${tooling}: ${untrusting.join(', ')}`,
      fix: `bootstrap again with --trust ${tooling} (keep the --cloudformation-execution-policies of the first bootstrap): npx cdk bootstrap aws://${account}/${target.region} --trust ${tooling} --cloudformation-execution-policies <policy ARN>`,
    };
  }
  return {
    check,
    status: 'pass',
    summary: `the ${TRUSTED_BOOTSTRAP_ROLES.join(', ')} roles trust the tooling account ${tooling}`,
  };
}

/**
 * The account's concurrency quota leaves 100 unreserved after the template's reservations, is at
 * least what the configuration declares, and (before the first deploy, when the account's
 * unreserved figure does not yet include this stack) other functions' reservations leave room.
 */
export async function checkLambdaConcurrency(
  clients: Pick<PreflightClients, 'lambda'>,
  target: PreflightTarget,
  deployed: DeployedStack | undefined,
): Promise<CheckResult> {
  const check = 'lambda.concurrency';
  let quota: number | undefined;
  let unreserved: number | undefined;
  try {
    const limits = (await clients.lambda.send(new GetAccountSettingsCommand({}))).AccountLimit;
    quota = limits?.ConcurrentExecutions;
    unreserved = limits?.UnreservedConcurrentExecutions;
  } catch (error) {
    return failedCall(check, 'lambda:GetAccountSettings', error);
  }
  if (quota === undefined || unreserved === undefined) {
    return {
      check,
      status: 'fail',
      summary: 'Lambda returned no account limits',
      fix: 'run the preflight again',
    };
  }
  const { reservations, declaredQuota } = target.concurrency;
  const reserved = reservations.reduce((sum, fn) => sum + fn.reserved, 0);
  const required = reserved + UNRESERVED_CONCURRENCY_MINIMUM;
  const listed = reservations.map((fn) => `${fn.name} ${fn.reserved}`).join(', ') || 'none';
  const increase = `request a Lambda "Concurrent executions" increase (Service Quotas, ${LAMBDA_CONCURRENCY_QUOTA_CODE}, region ${target.region})`;
  if (quota < required) {
    return {
      check,
      status: 'fail',
      summary: `account quota ${quota} < ${reserved} reserved (${listed}) + ${UNRESERVED_CONCURRENCY_MINIMUM} unreserved = ${required}`,
      fix: `${increase} to at least ${required}, or reserve less in environments/ for ${target.environment}`,
    };
  }
  if (declaredQuota !== undefined && quota < declaredQuota) {
    return {
      check,
      status: 'fail',
      summary: `the configuration declares an account quota of ${declaredQuota}, the account has ${quota}`,
      fix: `declare ${quota} in the configuration of ${target.environment} (its validation then checks the reservations against it), or ${increase}`,
    };
  }
  if (!deployed) {
    const otherReservations = quota - unreserved;
    if (unreserved - reserved < UNRESERVED_CONCURRENCY_MINIMUM) {
      return {
        check,
        status: 'fail',
        summary: `other functions already reserve ${otherReservations}; after ${reserved} more only ${unreserved - reserved} stay unreserved (Lambda keeps ${UNRESERVED_CONCURRENCY_MINIMUM})`,
        fix: `${increase} to at least ${otherReservations + required}, or lower the other reservations`,
      };
    }
  }
  return {
    check,
    status: 'pass',
    summary: `account quota ${quota} >= ${reserved} reserved (${listed}) + ${UNRESERVED_CONCURRENCY_MINIMUM}; ${unreserved} unreserved now`,
  };
}
