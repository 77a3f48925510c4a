/**
 * The preflight as a whole: every check in order, each documented once here (for `--help` and the
 * README), run against the SDK clients given, one result per check.
 */
import {
  checkBootstrapTrust,
  checkBootstrapVersion,
  checkCredentials,
  checkLambdaConcurrency,
} from './account';
import { checkPlaceholders } from './configuration';
import { checkConnection } from './connection';
import { checkAlarmSubscription, checkSmokeClient, checkStack } from './deployment';
import { checkCertificate, checkHostedZone, type NameServerLookup } from './domain';
import { checkStressConcurrency, checkStressWaf, checkStressWorkflowRate } from './stress';
import type { CheckResult, DeployedStack, PreflightClients, PreflightTarget } from './types';

/** What a check runs with, once the credentials and the stack are known. */
interface CheckContext {
  readonly clients: PreflightClients;
  readonly target: PreflightTarget;
  /** The account the credentials are for. */
  readonly account: string;
  readonly deployed?: DeployedStack;
  readonly options: PreflightOptions;
}

/** One check: what `--help` says of it, and how it runs after the credentials and stack checks. */
export interface CheckDescription {
  readonly id: string;
  /** What it verifies and how (the read-only call). */
  readonly verifies: string;
  /** Why the local stack (moto) cannot answer it; absent when it runs there too. */
  readonly notOnEmulator?: string;
  /** Reads only the configuration, so it runs even when the credentials check failed. */
  readonly offline?: boolean;
  /** Absent for the two checks every other one depends on (credentials, stack). */
  readonly run?: (context: CheckContext) => Promise<CheckResult> | CheckResult;
}

const NO_BOOTSTRAP_LOCALLY =
  'the local stack is created from the template by scripts/local, not deployed by CloudFormation: there is no CDK bootstrap';
const NO_LAMBDA_QUOTA_LOCALLY =
  'moto does not serve lambda:GetAccountSettings, and the local stack runs each function in its own process, without a concurrency quota';

/** Every check, in the order the table lists them. */
export const CHECKS: readonly CheckDescription[] = [
  {
    id: 'credentials',
    verifies:
      "sts:GetCallerIdentity: the credentials are for the account the environment deploys to (delivery accounts, or the environment's own).",
  },
  {
    id: 'stack',
    verifies:
      'cloudformation:DescribeStacks: the stack is deployable (not mid-operation, not stuck in a failed rollback). Not deployed yet = the deployed-stack checks skip.',
  },
  {
    id: 'placeholders',
    verifies:
      'the delivery file (delivery.config.yaml) holds no placeholder in the fields this environment and its pipeline deploy with; cdk deploy refuses them too.',
    offline: true,
    run: ({ target }) => checkPlaceholders(target),
  },
  {
    id: 'bootstrap.version',
    verifies:
      "ssm:GetParameter /cdk-bootstrap/<qualifier>/version: the account is bootstrapped in the region, at least at the version the synthesized template's CheckBootstrapVersion rule requires.",
    notOnEmulator: NO_BOOTSTRAP_LOCALLY,
    run: ({ clients, target, account }) => checkBootstrapVersion(clients, target, account),
  },
  {
    id: 'bootstrap.trust',
    verifies:
      'iam:GetRole cdk-<qualifier>-{deploy,file-publishing,lookup}-role-<account>-<region>: each trust policy lets the tooling account assume it (cdk bootstrap --trust). Only for environments a pipeline deploys.',
    notOnEmulator: NO_BOOTSTRAP_LOCALLY,
    run: ({ clients, target, account }) => checkBootstrapTrust(clients, target, account),
  },
  {
    id: 'lambda.concurrency',
    verifies:
      "lambda:GetAccountSettings: ConcurrentExecutions >= the template's reserved concurrency + 100 (Lambda keeps 100 unreserved) and >= the quota the configuration declares; before the first deploy, other functions' reservations leave room too.",
    notOnEmulator: NO_LAMBDA_QUOTA_LOCALLY,
    run: ({ clients, target, deployed }) => checkLambdaConcurrency(clients, target, deployed),
  },
  {
    id: 'certificate',
    verifies:
      "acm:DescribeCertificate: the configured certificate is in the environment's region, ISSUED, and its domain name or a SAN covers the HTTPS name (a wildcard covers exactly one label).",
    run: ({ clients, target }) => checkCertificate(clients, target),
  },
  {
    id: 'hosted-zone',
    verifies:
      "route53:GetHostedZone (or ListHostedZonesByName): the zone exists, is public, holds the HTTPS name, and the public DNS delegates it to the zone's name servers.",
    run: ({ clients, target, options }) => checkHostedZone(clients, target, options.lookupNameServers),
  },
  {
    id: 'connection',
    verifies:
      "codeconnections:GetConnection in the tooling account (--tooling-profile): the pipeline's connection is AVAILABLE, not PENDING. Only for environments a pipeline deploys.",
    run: ({ clients, target }) => checkConnection(clients, target),
  },
  {
    id: 'alarm-email',
    verifies:
      'sns:ListSubscriptionsByTopic on the deployed alarm topic: the configured email is subscribed and confirmed (PendingConfirmation = not). Skipped before the first deploy.',
    run: ({ clients, target, deployed }) => checkAlarmSubscription(clients, target, deployed),
  },
  {
    id: 'smoke-client',
    verifies:
      'secretsmanager:DescribeSecret on the secret the stack output names: the smoke-test client exists and has a current value (the value itself is not read). Skipped before the first deploy.',
    run: ({ clients, target, deployed }) => checkSmokeClient(clients, target, deployed),
  },
  {
    id: 'stress.concurrency',
    verifies:
      "the publisher's reservation (or the account's unreserved pool, lambda:GetAccountSettings) >= the stress profile's requests in flight.",
    notOnEmulator: NO_LAMBDA_QUOTA_LOCALLY,
    run: ({ clients, target }) => checkStressConcurrency(clients, target),
  },
  {
    id: 'stress.workflow-rate',
    verifies:
      "the profile's requests per second <= the documented StartExecution refill rate of the workflow type (Express 6,000/s; Standard 200/s or 25/s by region).",
    offline: true,
    run: ({ target }) => checkStressWorkflowRate(target),
  },
  {
    id: 'stress.waf',
    verifies:
      "a stress run and an immediate rerun (2 x the requests it sends from one IP, as one client, in 300 s) fit under the WAF's per-IP and per-client rate limits.",
    offline: true,
    run: ({ target }) => checkStressWaf(target),
  },
];

/** Options of one preflight run. */
export interface PreflightOptions {
  /** Name servers the public DNS gives a zone; without it the delegation is not checked. */
  readonly lookupNameServers?: NameServerLookup;
  /**
   * Reads the deployed stack another way than CloudFormation (the local stack's state file); it
   * returns the stack check's own result.
   */
  readonly readStack?: () => Promise<{ result: CheckResult; deployed?: DeployedStack }>;
  /** Checks to report as skipped on request (never credentials or stack). */
  readonly skip?: readonly string[];
  /** Called with each result as soon as it is known (progress). */
  readonly onResult?: (result: CheckResult) => void;
}

/** Runs every check against the target and returns one result per check, in {@link CHECKS} order. */
export async function runPreflight(
  clients: PreflightClients,
  target: PreflightTarget,
  options: PreflightOptions = {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const report = (result: CheckResult) => {
    results.push(result);
    options.onResult?.(result);
  };
  const credentials = await checkCredentials(clients, target);
  report(credentials.result);
  const account = credentials.account;
  if (credentials.result.status === 'fail' || !account) {
    for (const check of CHECKS.slice(1)) {
      report(
        check.offline && check.run
          ? await check.run({ clients, target, account: '', options })
          : { check: check.id, status: 'skip', summary: 'not run: the credentials check failed' },
      );
    }
    return results;
  }
  const stack = await (options.readStack ? options.readStack() : checkStack(clients, target));
  report(stack.result);

  for (const check of CHECKS) {
    if (!check.run) continue;
    if (options.skip?.includes(check.id)) {
      report({ check: check.id, status: 'skip', summary: 'skipped on request (--skip)' });
      continue;
    }
    if (target.platform === 'local' && check.notOnEmulator) {
      report({ check: check.id, status: 'skip', summary: check.notOnEmulator });
      continue;
    }
    report(await check.run({ clients, target, account, deployed: stack.deployed, options }));
  }
  return results;
}

const MARK: Readonly<Record<CheckResult['status'], string>> = { pass: '✓', fail: '✗', skip: '-' };

/** One line per check (`✓ id  summary`), the fix indented under each ✗. */
export function formatResult(result: CheckResult, width = 22): string {
  const line = `${MARK[result.status]} ${result.check.padEnd(width)} ${result.summary}`;
  return result.fix ? `${line}\n  ${' '.repeat(width)} fix: ${result.fix}` : line;
}

/** The closing line: counts per status. */
export function formatTotals(results: readonly CheckResult[]): string {
  const count = (status: CheckResult['status']) =>
    results.filter((result) => result.status === status).length;
  return `${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`;
}
