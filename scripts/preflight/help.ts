import { ENVIRONMENT_NAMES } from '../../environments';
import { CHECKS } from './run';

/** Wraps `text` to lines of at most 96 characters, each indented. */
function wrap(text: string, indent: string): string {
  return text
    .split(' ')
    .reduce<string[]>(
      (lines, word) => {
        const last = lines[lines.length - 1] ?? '';
        if (last.length + word.length + 1 > 96 - indent.length) lines.push(word);
        else lines[lines.length - 1] = last ? `${last} ${word}` : word;
        return lines;
      },
      [''],
    )
    .map((line) => `${indent}${line}`)
    .join('\n');
}

/** `npm run preflight -- --help`: the options, and every check of {@link CHECKS} with its call. */
export const PREFLIGHT_HELP = `Usage: npm run preflight -- --env <${ENVIRONMENT_NAMES.join('|')}> [options]

Checks, with read-only calls, that an account can take this environment before its first deploy
(and before each deploy of the pipeline). One line per check: ✓ passed, ✗ failed (with the fix
under it), - skipped (with the reason). Exits non-zero on any ✗.

Options:
  --env E              ${ENVIRONMENT_NAMES.join(', ')} (required); local checks the stack \`npm start\` runs
  --profile P          AWS profile of the environment's account (default: the SDK's default chain,
                       AWS_PROFILE or the CodeBuild role)
  --region R           region of the environment (default: the environment's configured region)
  --tooling-profile P  profile of the tooling account, where the connection lives (default: the
                       SDK's default chain, so a pipeline step's own role)
  --stack S            CloudFormation stack (default: the one the environment's stage deploys)
  --skip C1,C2         report these checks as skipped (say why in the change that adds it); not
                       credentials or stack
  -h, --help           show this help

Checks:
${CHECKS.map(
  (check) =>
    `  ${check.id}\n${wrap(check.verifies, '      ')}${
      check.notOnEmulator ? `\n${wrap(`local: skipped, ${check.notOnEmulator}.`, '      ')}` : ''
    }`,
).join('\n')}

Permissions: every call is a read; the CDK bootstrap's lookup role (ReadOnlyAccess) in the
environment's account allows all of them, plus codeconnections:GetConnection in the tooling account.

Exit status: 0 no check failed; 1 a check failed; 2 usage error; 3 the preflight could not run
(invalid configuration, no local stack).`;
