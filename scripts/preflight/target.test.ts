import { loadEnvironment } from '../../environments';
import { loadDelivery } from '../../environments/delivery';
import { EXAMPLE_DELIVERY_FILE, findPlaceholders, loadDeliveryFile } from '../../environments/delivery-file';
import { synthesizeEnvironment, type CfnTemplate } from '../../infra/stacks/synthesize';
import { LOCAL_ACCOUNT_ID } from '../local/aws-config';
import { preflightTarget, requiredBootstrapVersion, reservationsOf, UnreadableTemplateError } from './target';

// One synthesis for the whole file (bundling skipped).
const prod = synthesizeEnvironment(loadEnvironment('prod'));
const delivery = loadDelivery();
const deliveryFile = {
  path: EXAMPLE_DELIVERY_FILE,
  placeholders: findPlaceholders(loadDeliveryFile(EXAMPLE_DELIVERY_FILE)),
};

describe('preflightTarget', () => {
  const target = preflightTarget({
    config: loadEnvironment('prod'),
    delivery,
    template: prod.template,
    stackName: prod.stackName,
    deliveryFile,
  });

  it('reads the bootstrap rule of the synthesized template', () => {
    expect(target.bootstrap).toEqual({
      versionParameter: '/cdk-bootstrap/hnb659fds/version',
      qualifier: 'hnb659fds',
      requiredVersion: 6,
    });
  });

  it('counts every reservation of the template, by handler', () => {
    const fromTemplate = Object.values(prod.template.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => resource.Properties?.ReservedConcurrentExecutions)
      .filter((reserved) => reserved !== undefined)
      .reduce<number>((sum, reserved) => sum + Number(reserved), 0);
    const total = target.concurrency.reservations.reduce((sum, fn) => sum + fn.reserved, 0);
    expect(total).toBe(fromTemplate);
    expect(target.concurrency.reservations.map((fn) => fn.name)).toContain('publisher');
  });

  it('takes the account, connection and tooling account from the delivery configuration', () => {
    expect(target.account).toBe(delivery.accounts.prod);
    expect(target.delivery).toEqual({
      toolingAccount: delivery.toolingAccount,
      connectionArn: delivery.connectionArn,
    });
    expect(target.stackName).toBe('Prod-OrderPipeline');
    expect(target.platform).toBe('aws');
    const prodConfig = loadEnvironment('prod');
    expect(target.stress.waf).toEqual({
      perIp: prodConfig.wafRateLimit,
      perClient: prodConfig.wafClientRateLimit,
    });
    expect(target.concurrency.declaredQuota).toBe(prodConfig.lambda.accountConcurrency);
  });

  it("describes the local stack as the emulator in moto's account, deployed by no pipeline", () => {
    const localTarget = preflightTarget({
      config: loadEnvironment('local'),
      delivery,
      // What the adapter takes from the template does not depend on the environment.
      template: prod.template,
      stackName: 'Local-OrderPipeline',
      deliveryFile,
    });
    expect(localTarget.platform).toBe('local');
    expect(localTarget.account).toBe(LOCAL_ACCOUNT_ID);
    expect(localTarget.delivery).toBeUndefined();
    expect(localTarget.stress.waf).toBeUndefined();
    expect(localTarget.placeholders).toBeUndefined();
  });

  it("names the placeholders of prod and its pipeline, none of another environment's", () => {
    expect(target.placeholders).toMatchObject({
      file: 'examples/delivery.config.yaml',
      fix: 'copy it to delivery.config.yaml and replace them (README, Deploying)',
    });
    const fields = target.placeholders!.fields.join(', ');
    expect(fields).toContain('environments.prod.account (333333333333)');
    expect(fields).toContain('connectionArn (arn:aws:codeconnections:');
    expect(fields).not.toContain('environments.staging');
  });
});

describe('template readers', () => {
  const template = (rules: unknown): CfnTemplate => ({ Resources: {}, Rules: rules });

  it('takes the lowest version the rule does not refuse', () => {
    const rule = (versions: string[]) => ({
      CheckBootstrapVersion: {
        Assertions: [
          { Assert: { 'Fn::Not': [{ 'Fn::Contains': [versions, { Ref: 'BootstrapVersion' }] }] } },
        ],
      },
    });
    expect(requiredBootstrapVersion(template(rule(['1', '2', '3', '4', '5', '6', '7'])))).toBe(8);
    expect(() => requiredBootstrapVersion(template(undefined))).toThrow(UnreadableTemplateError);
  });

  it('names a reservation by its logical id when the function has no handler metadata', () => {
    expect(
      reservationsOf({
        Resources: {
          Fn: { Type: 'AWS::Lambda::Function', Properties: { ReservedConcurrentExecutions: 3 } },
          Other: { Type: 'AWS::Lambda::Function', Properties: {} },
        },
      }),
    ).toEqual([{ name: 'Fn', reserved: 3 }]);
  });
});
