import { loadEnvironment, validateEnvironment } from '../environments';
import { synthesizeTemplates } from '../scripts/local/synthesize';
async function main() {
  const t = await synthesizeTemplates(validateEnvironment({ ...loadEnvironment('local'), canaryDeployments: true }));
  for (const tpl of Object.values(t)) for (const [id, r] of Object.entries(tpl.Resources)) {
    if (['AWS::Lambda::Alias','AWS::Lambda::Version','AWS::Lambda::EventSourceMapping','AWS::CodeDeploy::DeploymentGroup'].includes(r.Type)) console.log(id, r.Type, JSON.stringify(r.Properties).slice(0,300), JSON.stringify((r as any).UpdatePolicy ?? ''));
  }
}
main();
