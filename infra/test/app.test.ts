import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { EXAMPLE_DELIVERY_FILE } from '../../environments/delivery-file';
import { composeOrderApp } from '../app';
import { projectContext } from '../stacks/synthesize';
import { SYNTH_TIMEOUT_MS } from './template-helpers';

const FILLED = path.join(__dirname, '..', '..', 'test', 'fixtures', 'delivery.config.yaml');

/** The app of `cdk synth` from `file` (bundling skipped): each stack's errors, by its display name. */
function errorsOfApp(file: string): Record<string, string[]> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-app-'));
  const app = new App({ outdir, context: { ...projectContext(), 'aws:cdk:bundling-stacks': [] } });
  composeOrderApp(app, file);
  return Object.fromEntries(
    app
      .synth()
      .stacksRecursively.map((stack) => [
        stack.displayName,
        stack.messages
          .filter((message) => message.level === 'error')
          .map((message) => String(message.entry.data)),
      ]),
  );
}

describe('the CDK app refuses to deploy placeholders', () => {
  let errors: Record<string, string[]>;
  beforeAll(() => {
    errors = errorsOfApp(EXAMPLE_DELIVERY_FILE);
  }, SYNTH_TIMEOUT_MS);

  it('each deployed stage stack names its own placeholders, with their values', () => {
    expect(errors['Dev/OrderPipeline (Dev-OrderPipeline)']).toEqual([
      'examples/delivery.config.yaml still holds placeholders: toolingAccount (444444444444), ' +
        'environments.dev.account (111111111111), environments.dev.alarmEmail (orders-dev@example.com); ' +
        'copy it to delivery.config.yaml and replace them (README, Deploying)',
    ]);
    const prod = errors['Prod/OrderPipeline (Prod-OrderPipeline)']!.join('\n');
    expect(prod).toContain('environments.prod.domain.certificateArn (arn:aws:acm:eu-west-1:333333333333:');
    expect(prod).toContain('environments.prod.domain.hostedZone.id (Z0000000000000000PROD)');
    expect(prod).not.toContain('environments.dev');
    expect(errors['Staging/OrderPipeline (Staging-OrderPipeline)']!.join('\n')).toContain(
      'environments.staging.domain.name (orders.staging.example.com)',
    );
  });

  it('each pipeline stack names the repository, the connection and the placeholders of its stages', () => {
    const nonProd = errors.NonProdPipeline!.join('\n');
    for (const field of [
      'repository.owner',
      'connectionArn',
      'environments.dev.account',
      'environments.staging.account',
    ]) {
      expect(nonProd).toContain(`${field} (`);
    }
    expect(nonProd).not.toContain('environments.prod');
    expect(errors.ProdPipeline!.join('\n')).toContain('environments.prod.account (333333333333)');
  });

  it('leaves the local stack alone: it deploys nothing of the delivery file', () => {
    expect(errors['Local/OrderPipeline (Local-OrderPipeline)']).toEqual([]);
  });
});

describe('a filled-in delivery file', () => {
  it(
    'synthesizes every stage and both pipelines without an error',
    () => {
      const errors = errorsOfApp(FILLED);
      // Four stages, two pipelines and the three stages they deploy.
      expect(Object.keys(errors)).toHaveLength(9);
      expect(Object.values(errors).flat()).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );
});
