import * as fs from 'node:fs';
import { ENVIRONMENT_NAMES, loadEnvironment } from '../../environments';
import { synthesizeDelivery } from '../../pipeline/synthesize-delivery';
import { synthesizeEnvironment } from '../stacks/synthesize';
import { SYNTH_TIMEOUT_MS } from '../test/template-helpers';
import { checkDeployRules, formatFindings } from '.';

// The deploy rules over what this repository deploys: every environment on its own, and the
// delivery pipelines with the stage copies they deploy. An empty report is the only pass.
describe('every synthesized template passes the deploy rules', () => {
  it.each(ENVIRONMENT_NAMES)(
    '%s',
    (name) => {
      const config = loadEnvironment(name);
      const { template } = synthesizeEnvironment(config);
      const findings = checkDeployRules(template, {
        account: { lambdaConcurrencyQuota: config.lambda.accountConcurrency },
        pseudo: { 'AWS::Region': config.region },
      });
      expect(formatFindings(findings)).toBe('');
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'the delivery pipelines and their stages',
    () => {
      const { templatePaths } = synthesizeDelivery();
      const report = templatePaths
        .map((file) => {
          const findings = checkDeployRules(JSON.parse(fs.readFileSync(file, 'utf8')));
          return findings.length === 0 ? '' : `${file}\n${formatFindings(findings)}`;
        })
        .filter(Boolean)
        .join('\n\n');
      expect(report).toBe('');
    },
    SYNTH_TIMEOUT_MS,
  );
});
