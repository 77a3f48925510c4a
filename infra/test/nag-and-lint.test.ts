import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ENVIRONMENT_NAMES, InvalidEnvironmentError, loadEnvironment } from '../../environments';
import { synthesizeDelivery } from '../../pipeline/synthesize-delivery';
import { addNagChecks, projectContext, synthesizeEnvironment } from '../stacks/synthesize';
import { SYNTH_TIMEOUT_MS } from './template-helpers';

describe('cdk-nag and cfn-lint gate every environment', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-pipeline-lint-'));
  const templates: string[] = [];

  it.each(ENVIRONMENT_NAMES)(
    '%s synthesizes with the AwsSolutions and Serverless packs and no unacknowledged finding',
    (name) => {
      const result = synthesizeEnvironment(loadEnvironment(name), {
        nag: true,
        outdir: path.join(outdir, name),
      });
      templates.push(result.templatePath);
      expect(Object.keys(result.template.Resources).length).toBeGreaterThan(100);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'passes cfn-lint with no error or warning (W3005 ignored: CDK adds DependsOn already implied by GetAtt)',
    () => {
      expect(templates).toHaveLength(ENVIRONMENT_NAMES.length);
      const run = () =>
        execFileSync('cfn-lint', [...templates, '--ignore-checks', 'W3005'], {
          encoding: 'utf8',
          stdio: 'pipe',
        });
      expect(run).not.toThrow();
    },
    SYNTH_TIMEOUT_MS,
  );

  it('reaches stacks inside a Stage: a non-compliant bucket fails synthesis', () => {
    const app = new App({ context: projectContext() });
    addNagChecks(app);
    const stage = new Stage(app, 'NagProof');
    const stack = new Stack(stage, 'Bad');
    new s3.Bucket(stack, 'Leaky', { removalPolicy: RemovalPolicy.DESTROY });
    expect(() => app.synth()).toThrow(
      /AwsSolutions-S1[\s\S]*NagProof\/Bad\/Leaky|NagProof\/Bad\/Leaky[\s\S]*AwsSolutions-S1/,
    );
  });
});

describe('cdk-nag and cfn-lint gate the delivery pipelines', () => {
  it(
    'both pipeline stacks and their stages synthesize with no unacknowledged finding and pass cfn-lint',
    () => {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-pipeline-delivery-lint-'));
      const { stacks, templatePaths } = synthesizeDelivery({ nag: true, outdir });
      expect(stacks.map((stack) => stack.stackName)).toEqual(['NonProdPipeline', 'ProdPipeline']);
      // Two pipeline templates and one per deployed stage (dev, staging, prod).
      expect(templatePaths).toHaveLength(5);
      const run = () =>
        execFileSync('cfn-lint', [...templatePaths, '--ignore-checks', 'W3005'], {
          encoding: 'utf8',
          stdio: 'pipe',
        });
      expect(run).not.toThrow();
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('bad configuration fails synthesis with a clear message', () => {
  const prod = () => structuredClone(loadEnvironment('prod'));
  const cases: [string, () => unknown, RegExp][] = [
    [
      'failure injection in prod',
      () => ({
        ...prod(),
        consumers: {
          ...prod().consumers,
          billing: { ...prod().consumers.billing!, failureInjectionRate: 0.1 },
        },
      }),
      /consumers\.billing\.failureInjectionRate: failure injection must be 0 in prod/,
    ],
    [
      'prod without account',
      () => ({ ...prod(), account: undefined }),
      /account: prod must name its AWS account/,
    ],
    [
      'prod with allowHttp',
      () => ({ ...prod(), allowHttp: true }),
      /allowHttp: prod must not allow plain HTTP/,
    ],
    [
      'prod without certificate',
      () => ({ ...prod(), domain: undefined }),
      /domain: prod needs an HTTPS domain name/,
    ],
    [
      'maxReceiveCount below 5',
      () => ({
        ...prod(),
        consumers: { ...prod().consumers, archive: { ...prod().consumers.archive!, maxReceiveCount: 2 } },
      }),
      /consumers\.archive\.maxReceiveCount/,
    ],
  ];
  it.each(cases)('%s', (_, config, message) => {
    const attempt = () => synthesizeEnvironment(config() as never);
    expect(attempt).toThrow(InvalidEnvironmentError);
    expect(attempt).toThrow(message);
  });

  it('a subscriber without settings names the missing key', () => {
    const config = structuredClone(loadEnvironment('dev'));
    delete (config.consumers as Record<string, unknown>).archive;
    delete config.lambda.reservations.archive;
    expect(() => synthesizeEnvironment(config)).toThrow(/no consumers\.archive settings/);
  });
});
