import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { checkDeployRules, DEPLOY_RULES, formatFindings } from '../infra/deploy-rules';

const HELP = `Usage: npm run lint:deploy -- [--quota N] [--region R] [cdk.out]

Checks every synthesized template under the cloud assembly (default cdk.out, run \`npm run synth\`
first) against the rules AWS enforces at deploy time or first use that cdk-nag, cfn-lint and the
local emulator do not see. Exits 1 on any finding.

  --quota N    the target account's Lambda concurrency quota (default 1000)
  --region R   region to resolve names built from AWS::Region (default: each template's own)
  -h, --help   this text

Rules:
${DEPLOY_RULES.map((rule) => `  ${rule.id}\n      ${rule.description}\n      ${rule.doc}`).join('\n')}
`;

function templatesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return templatesUnder(full);
    return entry.name.endsWith('.template.json') ? [full] : [];
  });
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { quota: { type: 'string' }, region: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const quota = values.quota === undefined ? undefined : Number(values.quota);
  if (quota !== undefined && (!Number.isInteger(quota) || quota < 1)) {
    process.stderr.write(`--quota must be a positive integer, got "${values.quota}"\n`);
    return 2;
  }
  const dir = positionals[0] ?? 'cdk.out';
  if (!fs.existsSync(dir)) {
    process.stderr.write(`${dir} does not exist: run \`npm run synth\` first\n`);
    return 2;
  }
  const templates = templatesUnder(dir);
  let failed = 0;
  for (const file of templates) {
    const template = JSON.parse(fs.readFileSync(file, 'utf8'));
    const findings = checkDeployRules(template, {
      account: { lambdaConcurrencyQuota: quota },
      pseudo: values.region ? { 'AWS::Region': values.region } : {},
    });
    const name = path.relative(dir, file);
    if (findings.length === 0) {
      process.stdout.write(`✓ ${name}\n`);
      continue;
    }
    failed += 1;
    process.stdout.write(`✗ ${name}\n${formatFindings(findings).replace(/^/gm, '    ')}\n`);
  }
  process.stdout.write(
    `${templates.length - failed} of ${templates.length} templates pass the deploy rules\n`,
  );
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
