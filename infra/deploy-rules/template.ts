import type { CfnTemplate } from '../stacks/synthesize';

/** One resource of a template, with its logical id. */
export interface TemplateResource {
  readonly id: string;
  readonly type: string;
  readonly properties: Record<string, unknown>;
  readonly dependsOn: readonly string[];
}

/** An IAM policy statement as it appears in a template (values may be intrinsics). */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Values of the pseudo parameters, for resolving names built with `Fn::Join` / `Fn::Sub`. */
export interface PseudoParameters {
  readonly 'AWS::Region'?: string;
  readonly 'AWS::AccountId'?: string;
  readonly 'AWS::StackName'?: string;
  readonly 'AWS::Partition'?: string;
  readonly 'AWS::URLSuffix'?: string;
}

export const asArray = <T>(value: T | T[] | undefined | null): T[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];

/** Read-only access to a synthesized template: resources by type, references between them. */
export class TemplateView {
  readonly resources: readonly TemplateResource[];
  private readonly byId: ReadonlyMap<string, TemplateResource>;

  constructor(
    readonly template: CfnTemplate,
    readonly pseudo: PseudoParameters = {},
  ) {
    this.resources = Object.entries(template.Resources ?? {}).map(([id, resource]) => ({
      id,
      type: resource.Type,
      properties: resource.Properties ?? {},
      dependsOn: asArray(resource.DependsOn as string | string[] | undefined),
    }));
    this.byId = new Map(this.resources.map((resource) => [resource.id, resource]));
  }

  ofType(type: string): TemplateResource[] {
    return this.resources.filter((resource) => resource.type === type);
  }

  get(id: string): TemplateResource | undefined {
    return this.byId.get(id);
  }

  /** The resources of `type` that `value` references (Ref, GetAtt, Sub). */
  referenced(value: unknown, type: string): TemplateResource[] {
    return refsIn(value)
      .map((id) => this.byId.get(id))
      .filter((resource): resource is TemplateResource => resource?.type === type);
  }

  /** `value` as a plain string, when it is one or is built only from strings and known pseudo parameters. */
  literal(value: unknown): string | undefined {
    return literal(value, this.pseudo);
  }
}

/** Logical ids a CloudFormation value references through `Ref`, `Fn::GetAtt` or `${...}` in `Fn::Sub`. */
export function refsIn(value: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string' && !o.Ref.startsWith('AWS::')) found.add(o.Ref);
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') found.add(getAtt[0]);
    if (typeof getAtt === 'string') found.add(getAtt.split('.')[0]!);
    const sub = o['Fn::Sub'];
    const subTemplate = typeof sub === 'string' ? sub : Array.isArray(sub) ? sub[0] : undefined;
    if (typeof subTemplate === 'string') {
      for (const match of subTemplate.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) {
        found.add(match[1]!);
      }
    }
    Object.values(o).forEach(walk);
  };
  walk(value);
  return [...found];
}

/** A CloudFormation value as a string, if it can be resolved without deploying. */
export function literal(value: unknown, pseudo: PseudoParameters = {}): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (!value || typeof value !== 'object') return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string') return pseudo[o.Ref as keyof PseudoParameters];
  const join = o['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    const parts = join[1].map((part) => literal(part, pseudo));
    return parts.every((part) => part !== undefined) ? parts.join(join[0]) : undefined;
  }
  const sub = o['Fn::Sub'];
  if (typeof sub === 'string') {
    let unresolved = false;
    const text = sub.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      const resolved = pseudo[name as keyof PseudoParameters];
      if (resolved === undefined) unresolved = true;
      return resolved ?? '';
    });
    return unresolved ? undefined : text;
  }
  return undefined;
}

/** The statements of a policy document. */
export function statementsOf(document: unknown): PolicyStatement[] {
  const statements = (document as { Statement?: unknown } | undefined)?.Statement;
  return asArray(statements as PolicyStatement | PolicyStatement[]);
}

/** The actions a statement names (lower case, as IAM compares them). */
export function actionsOf(statement: PolicyStatement): string[] {
  return asArray(statement.Action as string | string[]).map((action) => String(action).toLowerCase());
}

/** Whether one of `patterns` (IAM wildcards `*` and `?`) matches `action`, case-insensitively. */
export function actionMatches(patterns: readonly string[], action: string): boolean {
  const target = action.toLowerCase();
  return patterns.some((pattern) => {
    const regex = new RegExp(
      `^${pattern
        .toLowerCase()
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    return regex.test(target);
  });
}

/** Service principals of a statement (`*` for an anonymous principal). */
export function servicePrincipalsOf(statement: PolicyStatement): string[] {
  const principal = statement.Principal;
  if (principal === '*') return ['*'];
  if (!principal || typeof principal !== 'object') return [];
  const p = principal as Record<string, unknown>;
  const services = asArray(p.Service as string | string[]).map((service) => literal(service) ?? '');
  const anyone = asArray(p.AWS as string | string[]).some((aws) => aws === '*');
  return [...services, ...(anyone ? ['*'] : [])];
}

/** Whether a statement carries a condition on one of `keys` (any operator), case-insensitively. */
export function conditionKeys(statement: PolicyStatement): string[] {
  return Object.values(statement.Condition ?? {}).flatMap((block) =>
    Object.keys(block ?? {}).map((key) => key.toLowerCase()),
  );
}

/** The value a statement's condition gives `key`, under any operator. */
export function conditionValue(statement: PolicyStatement, key: string): unknown {
  for (const block of Object.values(statement.Condition ?? {})) {
    for (const [name, value] of Object.entries(block ?? {})) {
      if (name.toLowerCase() === key.toLowerCase()) return value;
    }
  }
  return undefined;
}

/** Conditions that stop a service's confused-deputy use of a grant (IAM User Guide, "The confused deputy problem"). */
export const SOURCE_CONDITION_KEYS = ['aws:sourceaccount', 'aws:sourcearn', 'aws:sourceowner'];
