import type { CheckResult, PreflightTarget } from './types';

/** The delivery file holds no placeholder that this environment or its pipeline would deploy. */
export function checkPlaceholders(target: PreflightTarget): CheckResult {
  const check = 'placeholders';
  const { placeholders } = target;
  if (!placeholders) {
    return { check, status: 'skip', summary: `${target.environment} takes nothing from the delivery file` };
  }
  if (placeholders.fields.length > 0) {
    return {
      check,
      status: 'fail',
      summary: `${placeholders.file} still holds placeholders: ${placeholders.fields.join(', ')}`,
      fix: placeholders.fix,
    };
  }
  return {
    check,
    status: 'pass',
    summary: `${placeholders.file} holds no placeholder ${target.environment} uses`,
  };
}
