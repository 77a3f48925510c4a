/**
 * What the environment's stress (or smoke) profile asks of the account: concurrent executions for
 * the function that answers each request, StartExecution calls per second, and the WAF's
 * per-IP budget for one run and an immediate rerun.
 */
import { GetAccountSettingsCommand } from '@aws-sdk/client-lambda';
import { failedCall } from './aws-errors';
import type { CheckResult, PreflightClients, PreflightTarget } from './types';

/**
 * StartExecution token buckets, per account and Region, as the Step Functions Developer Guide
 * documents them: Express 6,000 tokens refilled at 6,000/s in every Region
 * (https://docs.aws.amazon.com/step-functions/latest/dg/express-limits.html); Standard 1,000
 * refilled at 200/s in us-east-1, us-west-2 and eu-west-1 and 500 at 25/s elsewhere
 * (https://docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html). No API reports the
 * account's applied figure, so these defaults are what the check compares with.
 */
export function startExecutionBucket(
  workflowType: 'EXPRESS' | 'STANDARD',
  region: string,
): { size: number; refillPerSecond: number } {
  if (workflowType === 'EXPRESS') return { size: 6000, refillPerSecond: 6000 };
  return ['us-east-1', 'us-west-2', 'eu-west-1'].includes(region)
    ? { size: 1000, refillPerSecond: 200 }
    : { size: 500, refillPerSecond: 25 };
}

/**
 * The shortest a request must take for `concurrency` requests in flight to stay under the refill
 * rate: below it a run "as fast as the concurrency allows" may be throttled. The publisher makes a
 * DynamoDB write and the StartExecution call per request, so it cannot answer faster than this.
 */
export const PUBLISHER_FLOOR_MS = 10;

/** The WAF's default and this project's evaluation window (seconds). */
export const WAF_WINDOW_SECONDS = 300;

/**
 * Requests one stress run sends from its one IP within any WAF evaluation window: all of them,
 * unless its rate spreads them over more than the window.
 */
export function requestsPerWafWindow(
  stress: Pick<PreflightTarget['stress'], 'orders' | 'ratePerSecond'>,
): number {
  if (stress.ratePerSecond <= 0) return stress.orders;
  return Math.min(stress.orders, Math.ceil(stress.ratePerSecond * WAF_WINDOW_SECONDS));
}

/**
 * The function that answers each request can run the profile's concurrency: its reservation if it
 * has one, else the account's pool left after every reservation of the template.
 */
export async function checkStressConcurrency(
  clients: Pick<PreflightClients, 'lambda'>,
  target: PreflightTarget,
): Promise<CheckResult> {
  const check = 'stress.concurrency';
  const { concurrency, entryFunction } = target.stress;
  const reservations = target.concurrency.reservations;
  const own = reservations.find((fn) => fn.name === entryFunction);
  if (own) {
    if (own.reserved < concurrency) {
      return {
        check,
        status: 'fail',
        summary: `${entryFunction} reserves ${own.reserved}, the profile keeps ${concurrency} requests in flight: the rest are throttled`,
        fix: `reserve at least ${concurrency} for ${entryFunction} in environments/ for ${target.environment}, or lower the profile's concurrency`,
      };
    }
    return {
      check,
      status: 'pass',
      summary: `${entryFunction} reserves ${own.reserved} >= ${concurrency} requests in flight`,
    };
  }
  let quota: number | undefined;
  try {
    quota = (await clients.lambda.send(new GetAccountSettingsCommand({}))).AccountLimit?.ConcurrentExecutions;
  } catch (error) {
    return failedCall(check, 'lambda:GetAccountSettings', error);
  }
  const reserved = reservations.reduce((sum, fn) => sum + fn.reserved, 0);
  const pool = (quota ?? 0) - reserved;
  if (pool < concurrency) {
    return {
      check,
      status: 'fail',
      summary: `${entryFunction} shares the unreserved pool: quota ${quota ?? 0} - ${reserved} reserved = ${pool} < ${concurrency} requests in flight`,
      fix: `request a higher Lambda concurrency quota, or lower the profile's concurrency`,
    };
  }
  return {
    check,
    status: 'pass',
    summary: `${entryFunction} shares the unreserved pool of ${pool} (quota ${quota ?? 0} - ${reserved} reserved) >= ${concurrency} in flight`,
  };
}

/** The profile's requests per second stay within the StartExecution bucket of the workflow type. */
export function checkStressWorkflowRate(target: PreflightTarget): CheckResult {
  const check = 'stress.workflow-rate';
  const { workflowType, ratePerSecond, concurrency } = target.stress;
  const bucket = startExecutionBucket(workflowType, target.region);
  const quota = `${workflowType} StartExecution: ${bucket.size} tokens, ${bucket.refillPerSecond}/s refill (documented default)`;
  if (ratePerSecond > 0) {
    if (ratePerSecond > bucket.refillPerSecond) {
      return {
        check,
        status: 'fail',
        summary: `the profile sends ${ratePerSecond}/s; ${quota}`,
        fix: `lower the profile's rate to ${bucket.refillPerSecond}/s or request a Step Functions quota increase (Support Center)`,
      };
    }
    return { check, status: 'pass', summary: `${ratePerSecond}/s <= ${quota}` };
  }
  const floorMs = (concurrency / bucket.refillPerSecond) * 1000;
  if (floorMs >= PUBLISHER_FLOOR_MS) {
    return {
      check,
      status: 'fail',
      summary: `as fast as ${concurrency} in flight allow: any request quicker than ${floorMs.toFixed(0)} ms exceeds ${quota}`,
      fix: `give the profile a rate of at most ${bucket.refillPerSecond}/s, or lower its concurrency`,
    };
  }
  return {
    check,
    status: 'pass',
    summary: `${concurrency} in flight exceed ${bucket.refillPerSecond}/s only below ${floorMs.toFixed(1)} ms a request (the publisher needs >= ${PUBLISHER_FLOOR_MS} ms); ${quota}`,
  };
}

/** A run and an immediate rerun fit in the WAF's per-IP and per-client limits of one window. */
export function checkStressWaf(target: PreflightTarget): CheckResult {
  const check = 'stress.waf';
  const waf = target.stress.waf;
  if (!waf) {
    return { check, status: 'skip', summary: `${target.environment} runs without the WAF` };
  }
  const perRun = requestsPerWafWindow(target.stress);
  const needed = 2 * perRun;
  const short = [
    ...(waf.perIp < needed ? [`per-IP limit ${waf.perIp}`] : []),
    ...(waf.perClient < needed ? [`per-client limit ${waf.perClient}`] : []),
  ];
  if (short.length > 0) {
    return {
      check,
      status: 'fail',
      summary: `a run sends ${perRun} requests from one IP as one client within ${WAF_WINDOW_SECONDS} s; a rerun right after it passes the ${short.join(' and the ')} and gets 429`,
      fix: `raise the WAF limits of ${target.environment} (wafRateLimit, wafClientRateLimit) to at least ${needed}, or spread the profile over more time`,
    };
  }
  return {
    check,
    status: 'pass',
    summary: `2 runs x ${perRun} requests per ${WAF_WINDOW_SECONDS} s <= WAF limits ${waf.perIp} per IP, ${waf.perClient} per client`,
  };
}
