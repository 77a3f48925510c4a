import type { EnvironmentConfig } from '../../environments';
import type { CfnTemplate } from './cfn-template';

/** The environment's CloudFormation templates by stack name, synthesized without bundling. */
export async function synthesizeTemplates(_config: EnvironmentConfig): Promise<Record<string, CfnTemplate>> {
  throw new Error('infra synthesis is not wired yet');
}
