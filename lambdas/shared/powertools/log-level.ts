/**
 * Powertools' levels by verbosity, most verbose first; Lambda's FATAL is Powertools' CRITICAL
 * (Powertools reads a FATAL AWS_LAMBDA_LOG_LEVEL as CRITICAL), and SILENT logs nothing.
 */
const RANK: Readonly<Record<string, number>> = {
  TRACE: 0,
  DEBUG: 1,
  INFO: 2,
  WARN: 3,
  ERROR: 4,
  CRITICAL: 5,
  FATAL: 5,
  SILENT: 6,
};

/**
 * The level a function's Powertools Logger logs at: the stricter of Lambda's application filter
 * (AWS_LAMBDA_LOG_LEVEL, which Lambda sets to the function's ApplicationLogLevel in the JSON log
 * format) and POWERTOOLS_LOG_LEVEL. Powertools alone takes Lambda's level over its own (its
 * documented precedence); the stack keeps that filter at INFO so that the EMF lines, which have no
 * level and so count as INFO, reach CloudWatch, and the application's own level is
 * POWERTOOLS_LOG_LEVEL (WARN in prod), so the logger passes this one to Powertools. An invalid
 * POWERTOOLS_LOG_LEVEL leaves Lambda's, as Powertools would.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
 * @returns undefined when Lambda filters nothing (text format, the local stack).
 */
export function powertoolsLevelUnderLambda(env: {
  AWS_LAMBDA_LOG_LEVEL?: string;
  POWERTOOLS_LOG_LEVEL?: string;
}): string | undefined {
  const lambda = env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase();
  if (!lambda) return undefined;
  const own = env.POWERTOOLS_LOG_LEVEL?.toUpperCase();
  const ownRank = own === undefined ? undefined : RANK[own];
  return ownRank !== undefined && ownRank > (RANK[lambda] ?? -1) ? own : lambda;
}
