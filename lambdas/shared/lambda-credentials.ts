/**
 * Stands in for `@aws-sdk/credential-provider-node` inside the Lambda bundles (an esbuild alias in
 * infra/constructs/lambda-bundling.ts). Lambda always hands a function its role's credentials in
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (these functions use no
 * SnapStart, the one case where it does not), so the SDK's full chain (SSO, ini files, IMDS, web
 * identity, login...) is dead weight there: about 90 KB of every bundle, parsed at each cold start.
 * The local stack's sandboxes get the same variables.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The SDK clients' default credential provider: the environment, nothing else. */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
