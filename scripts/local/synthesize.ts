import type { EnvironmentConfig } from '../../environments';
import { synthesizeEnvironment } from '../../infra/stacks/synthesize';
import type { CfnTemplate } from './cfn-template';

/**
 * The environment's CloudFormation templates by stack name, synthesized as `cdk synth` would but
 * without bundling: the local stack bundles the handlers itself.
 */
export async function synthesizeTemplates(config: EnvironmentConfig): Promise<Record<string, CfnTemplate>> {
  const { stackName, template } = synthesizeEnvironment(config, { bundling: false });
  return { [stackName]: template as unknown as CfnTemplate };
}
