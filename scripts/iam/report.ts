import { grantKey, type Evaluation } from './evaluate';

/** Per principal: calls allowed and denied, over every environment evaluated. */
export interface PrincipalRow {
  principal: string;
  allowed: number;
  denied: number;
}

export function principalTable(evaluations: readonly Evaluation[]): PrincipalRow[] {
  const rows = new Map<string, PrincipalRow>();
  for (const evaluation of evaluations)
    for (const verdict of evaluation.verdicts) {
      const row = rows.get(verdict.principal) ?? { principal: verdict.principal, allowed: 0, denied: 0 };
      if (verdict.allowed) row.allowed += 1;
      else row.denied += 1;
      rows.set(verdict.principal, row);
    }
  return [...rows.values()].sort((a, b) => a.principal.localeCompare(b.principal));
}

/** A Markdown table of {@link principalTable}, for the README. */
export function markdownTable(rows: readonly PrincipalRow[], environments: readonly string[]): string {
  const lines = [
    `| Principal | Calls allowed (${environments.join(' + ')}) | Denied |`,
    '| --- | ---: | ---: |',
    ...rows.map((row) => `| \`${row.principal}\` | ${row.allowed} | ${row.denied} |`),
  ];
  return lines.join('\n');
}

/** Unused grants not acknowledged, and acknowledgements matching nothing. */
export function unacknowledged(
  evaluations: readonly Evaluation[],
  unusedEndpoints: readonly string[],
  acknowledgements: Readonly<Record<string, string>>,
): { unused: string[]; stale: string[]; acknowledged: string[] } {
  const unused = new Set<string>();
  for (const evaluation of evaluations)
    for (const grant of evaluation.unusedGrants) unused.add(grantKey(grant));
  for (const service of unusedEndpoints) unused.add(`endpoint | ${service}`);
  const patterns = Object.keys(acknowledgements).map((key) => ({ key, matcher: glob(key) }));
  const acknowledgedBy = (key: string) => patterns.find(({ matcher }) => matcher.test(key));
  return {
    unused: [...unused].filter((key) => !acknowledgedBy(key)).sort(),
    acknowledged: [...unused].filter((key) => acknowledgedBy(key)).sort(),
    stale: patterns
      .filter(({ matcher }) => ![...unused].some((key) => matcher.test(key)))
      .map(({ key }) => key)
      .sort(),
  };
}

/** An acknowledgement key with `*` standing for any text (one entry may cover every function role). */
function glob(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}
