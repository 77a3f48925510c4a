import type { CheckResult } from './types';

/**
 * Services name a refused call differently (`AccessDenied` in the query protocols of STS, IAM and
 * CloudFormation, `AccessDeniedException` in the JSON ones, `AuthorizationError` in SNS), and no
 * SDK class spans them, so this one place compares names.
 */
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'AuthorizationError',
  'AuthorizationErrorException',
  'UnauthorizedOperation',
]);

function isAccessDenied(error: unknown): boolean {
  return error instanceof Error && ACCESS_DENIED.has(error.name);
}

/**
 * The ✗ line for a call that failed for a reason the check did not expect: a refused permission
 * names the action to grant, anything else is shown as AWS said it.
 */
export function failedCall(check: string, action: string, error: unknown): CheckResult {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (isAccessDenied(error)) {
    return {
      check,
      status: 'fail',
      summary: `${action} was refused (${message})`,
      fix: `run the preflight with credentials allowed to call ${action}: the CDK bootstrap's lookup role (ReadOnlyAccess) is enough`,
    };
  }
  if (error instanceof Error && error.name === 'CredentialsProviderError') {
    return {
      check,
      status: 'fail',
      summary: `no AWS credentials (${error.message})`,
      fix: 'pass --profile <profile of the account>, or set AWS_PROFILE or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY variables',
    };
  }
  return {
    check,
    status: 'fail',
    summary: `${action} failed (${message})`,
    fix: 'check the credentials, the region and the network, then run the preflight again',
  };
}
