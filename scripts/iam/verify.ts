import type { Recording } from '../local/calls/recorder';
import { environmentWorld, type EnvironmentWorld } from './environment';
import { evaluateRecording, type Evaluation } from './evaluate';
import { markdownTable, principalTable, unacknowledged, type PrincipalRow } from './report';
import { UNUSED_GRANT_ACKNOWLEDGEMENTS } from './unused-grants';

export interface VerifyOptions {
  environments: readonly string[];
  without?: readonly string[];
  acknowledgements?: Readonly<Record<string, string>>;
  onProgress?: (message: string) => void;
}

/** The outcome of `npm run verify:iam`. */
export interface VerifyResult {
  evaluations: Evaluation[];
  table: PrincipalRow[];
  denied: number;
  /** Unused grants and endpoints missing from the acknowledgement file. */
  unused: string[];
  /** Acknowledgements that match nothing any more. */
  stale: string[];
  acknowledged: string[];
  unparsed: Recording['unparsed'];
  /** The report, line by line. */
  lines: string[];
  ok: boolean;
}

/** IAM names of what the interface endpoints serve, by endpoint service name. */
const ENDPOINT_SERVICES: Record<string, string> = {
  states: 'states',
  secretsmanager: 'secretsmanager',
  sns: 'sns',
  sqs: 'sqs',
  kms: 'kms',
  logs: 'logs',
  xray: 'xray',
};

/** Interface endpoints of the environment no recorded in-VPC call uses. */
export function unusedEndpoints(world: EnvironmentWorld, recording: Recording): string[] {
  const used = new Set(recording.calls.filter((call) => call.inVpc).map((call) => call.action.split(':')[0]));
  return world.templates
    .resourcesOfType('AWS::EC2::VPCEndpoint')
    .filter(({ resource }) => resource.Properties?.VpcEndpointType === 'Interface')
    .map(
      ({ stack, resource }) =>
        world.templates.resolveString(stack, resource.Properties?.ServiceName).split('.').pop() ?? '',
    )
    .filter((service) => !used.has(ENDPOINT_SERVICES[service] ?? service));
}

/** Evaluates a recording against every environment and applies the unused-grant rules. */
export async function verifyRecording(recording: Recording, options: VerifyOptions): Promise<VerifyResult> {
  const acknowledgements = options.acknowledgements ?? UNUSED_GRANT_ACKNOWLEDGEMENTS;
  const lines: string[] = [];
  const evaluations: Evaluation[] = [];
  const endpoints = new Set<string>();
  for (const environment of options.environments) {
    options.onProgress?.(`evaluating ${recording.calls.length} recorded calls against ${environment}`);
    const world = environmentWorld(environment);
    evaluations.push(await evaluateRecording(world, recording.calls, { without: options.without }));
    for (const service of unusedEndpoints(world, recording)) endpoints.add(service);
  }
  const table = principalTable(evaluations);
  const denied = table.reduce((sum, row) => sum + row.denied, 0);
  const checkUnused = (options.without ?? []).length === 0;
  const { unused, stale, acknowledged } = checkUnused
    ? unacknowledged(evaluations, [...endpoints], acknowledgements)
    : { unused: [], stale: [], acknowledged: [] };

  lines.push(
    `Recorded calls: ${recording.calls.length} distinct (${recording.calls.reduce((n, call) => n + call.count, 0)} in all) from ${recording.scenarios.length} scenarios`,
  );
  if (options.without?.length) lines.push(`Removed from every policy: ${options.without.join(', ')}`);
  lines.push('', markdownTable(table, options.environments), '');
  const denies = new Map<string, string[]>();
  for (const evaluation of evaluations)
    for (const verdict of evaluation.verdicts.filter((candidate) => !candidate.allowed)) {
      const key = `${verdict.principal} ${verdict.action} ${verdict.call.resource}${verdict.call.cause ? ` (for ${verdict.call.cause.replace(/^alarm .*/, 'alarms')})` : ''}`;
      const detail = `${evaluation.environment}: ${verdict.reasons.join('; ')}`;
      denies.set(key, [...(denies.get(key) ?? []), detail]);
    }
  if (denies.size > 0) {
    lines.push(`DENIED (${denied} calls):`);
    for (const [key, details] of denies) {
      const distinct = [...new Set(details)];
      const times =
        details.length > distinct.length
          ? ` x${details.length / Math.max(1, options.environments.length)}`
          : '';
      lines.push(`  ${key}${times}`, ...distinct.map((detail) => `    ${detail}`));
    }
    lines.push('');
  }
  if (recording.unparsed.length > 0) {
    lines.push(`Requests the recorder could not authorize (${recording.unparsed.length}):`);
    for (const entry of recording.unparsed)
      lines.push(`  ${entry.principal}: ${entry.request}: ${entry.error}`);
    lines.push('');
  }
  if (checkUnused) {
    lines.push(
      `Unused grants and endpoints acknowledged in scripts/iam/unused-grants.ts: ${acknowledged.length}`,
    );
    if (unused.length > 0) {
      lines.push(
        `UNUSED and not acknowledged (${unused.length}): remove the grant or acknowledge it with its reason`,
      );
      for (const key of unused) lines.push(`  ${key}`);
    }
    if (stale.length > 0) {
      lines.push(`Acknowledgements that match nothing (${stale.length}): delete them`);
      for (const key of stale) lines.push(`  ${key}`);
    }
  }
  const ok = denied === 0 && unused.length === 0 && stale.length === 0 && recording.unparsed.length === 0;
  lines.push(ok ? 'verify:iam passed' : 'verify:iam FAILED');
  return { evaluations, table, denied, unused, stale, acknowledged, unparsed: recording.unparsed, lines, ok };
}
