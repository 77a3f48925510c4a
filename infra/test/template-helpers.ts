import { Template } from 'aws-cdk-lib/assertions';
import { loadEnvironment, type EnvironmentInput, type EnvironmentName } from '../../environments';
import { synthesizeEnvironment, type CfnTemplate, type SynthesizeOptions } from '../stacks/synthesize';

/** Synthesis of a whole environment takes seconds: one per test file, in beforeAll. */
export const SYNTH_TIMEOUT_MS = 120_000;

export interface Synthesized {
  json: CfnTemplate;
  template: Template;
  templatePath: string;
}

/** Synthesizes an environment (without bundling), optionally overriding parts of its config. */
export function synth(
  name: EnvironmentName,
  override: (config: EnvironmentInput) => EnvironmentInput = (config) => config,
  options: SynthesizeOptions = {},
): Synthesized {
  const result = synthesizeEnvironment(override(structuredClone(loadEnvironment(name))), options);
  return {
    json: result.template,
    template: Template.fromJSON(result.template),
    templatePath: result.templatePath,
  };
}

/** A readable name for a CloudFormation value: `{Ref: X}` -> `X`, GetAtt -> `X.Attr`, joins flattened. */
export function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(show).join(',');
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return String(v.Ref);
    if ('Fn::GetAtt' in v) return (v['Fn::GetAtt'] as string[]).join('.');
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(show).join(separator);
    }
    if ('Fn::Select' in v) return `select(${show((v['Fn::Select'] as unknown[])[1])})`;
  }
  return JSON.stringify(value);
}

export interface Grant {
  action: string;
  resource: string;
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every (action, resource) pair a role is granted through AWS::IAM::Policy resources attached to it. */
export function grantsOf(json: CfnTemplate, roleLogicalIdPrefix: string): Grant[] {
  const grants: Grant[] = [];
  for (const resource of Object.values(json.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = asArray(resource.Properties?.Roles as unknown[]).map(show);
    if (!roles.some((role) => role.startsWith(roleLogicalIdPrefix))) continue;
    const document = resource.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const statement of document.Statement) {
      expect(statement.Effect).toBe('Allow');
      for (const action of asArray(statement.Action as string | string[])) {
        for (const target of asArray(statement.Resource as unknown)) {
          grants.push({ action, resource: show(target) });
        }
      }
    }
  }
  return grants;
}

/** Logical ids of resources of one type. */
export function logicalIds(json: CfnTemplate, type: string): string[] {
  return Object.entries(json.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);
}

/** The one logical id of a resource type whose id starts with a prefix. */
export function logicalId(json: CfnTemplate, type: string, prefix: string): string {
  const ids = logicalIds(json, type).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1)
    throw new Error(`Expected one ${type} starting with ${prefix}, found ${ids.join(', ')}`);
  return ids[0]!;
}
