import type { CfnTemplate } from '../stacks/synthesize';
import { DEPLOY_RULES, type AccountFacts, type DeployRule, type Finding } from './rules';
import { TemplateView, type PseudoParameters } from './template';

export { DEPLOY_RULES, certificateCovers, type AccountFacts, type DeployRule, type Finding } from './rules';
export type { PseudoParameters } from './template';

export interface DeployRuleOptions {
  /** Facts about the target account (its quotas). */
  readonly account?: AccountFacts;
  /** Pseudo parameters, to resolve physical names built from them. */
  readonly pseudo?: PseudoParameters;
  /** The rules to run; @default DEPLOY_RULES */
  readonly rules?: readonly DeployRule[];
}

/**
 * Checks a synthesized template against the rules AWS enforces at deploy time or first use and that
 * cdk-nag, cfn-lint and the local emulator do not see (quotas, service principals in resource and
 * key policies, permission prefixes, creation order, name lengths, certificate names, alarm scope).
 */
export function checkDeployRules(template: CfnTemplate, options: DeployRuleOptions = {}): Finding[] {
  const view = new TemplateView(template, options.pseudo);
  return (options.rules ?? DEPLOY_RULES).flatMap((rule) => rule.check(view, options.account ?? {}));
}

/** Findings as lines `rule  resource: message`, with each broken rule's documentation once. */
export function formatFindings(
  findings: readonly Finding[],
  rules: readonly DeployRule[] = DEPLOY_RULES,
): string {
  const lines = findings.map((finding) => `${finding.rule}  ${finding.resource}: ${finding.message}`);
  const docs = [...new Set(findings.map((finding) => finding.rule))].map((id) => {
    const rule = rules.find((candidate) => candidate.id === id);
    return rule ? `  ${id}: ${rule.description} (${rule.doc})` : `  ${id}`;
  });
  return [...lines, ...(docs.length > 0 ? ['', 'Why:', ...docs] : [])].join('\n');
}
