/**
 * How every handler is bundled, in one place: `OrderPipelineFunction` deploys with it, and the
 * bundle test and `npm run bench` build with the same esbuild settings, so what they measure is
 * what deploys. Plain data (no aws-cdk-lib import) so tools load it cheaply.
 */
import * as path from 'node:path';

/** Node.js version the bundles target (the runtime of `NODE_RUNTIME`). */
export const BUNDLE_TARGET = 'node24';

/**
 * Bundled CommonJS dependencies (the X-Ray SDK under the Powertools tracer) call `require` for
 * Node built-ins; an ES module has none, so the bundle defines one first.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __orderPipelineCreateRequire } from 'node:module'; const require = __orderPipelineCreateRequire(import.meta.url);";

/**
 * Module swaps applied to every bundle: the SDK's default credential chain becomes the
 * environment-only provider of lambdas/shared/lambda-credentials.ts (see there for why).
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': path.resolve(
    __dirname,
    '..',
    '..',
    'lambdas',
    'shared',
    'lambda-credentials.ts',
  ),
};

/**
 * The esbuild settings of a deployed handler. ESM with the `module` field first lets esbuild
 * tree-shake the SDK's and Powertools' ES builds; the SDK is bundled (not taken from the runtime)
 * so only the clients a handler calls ship and load, from one file. Measured by `npm run bench`.
 */
export const LAMBDA_BUNDLE = {
  target: BUNDLE_TARGET,
  format: 'esm',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  banner: ESM_REQUIRE_BANNER,
  /** Packages left out of the bundle (none: the runtime's SDK is not used). */
  externalModules: [] as string[],
} as const;

/** esbuild `build()` options for a handler entry, as deployed (optionally with the SDK left external). */
export function handlerBuildOptions(
  entryPath: string,
  options: { sdkExternal?: boolean } = {},
): {
  entryPoints: string[];
  bundle: true;
  platform: 'node';
  target: string;
  format: 'esm';
  mainFields: string[];
  minify: boolean;
  sourcemap: boolean;
  banner: { js: string };
  alias: Record<string, string>;
  external: string[];
} {
  return {
    entryPoints: [entryPath],
    bundle: true,
    platform: 'node',
    target: LAMBDA_BUNDLE.target,
    format: LAMBDA_BUNDLE.format,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    minify: LAMBDA_BUNDLE.minify,
    sourcemap: LAMBDA_BUNDLE.sourceMap,
    banner: { js: LAMBDA_BUNDLE.banner },
    alias: { ...BUNDLE_ALIASES },
    external: options.sdkExternal
      ? [...LAMBDA_BUNDLE.externalModules, '@aws-sdk/*', '@smithy/*']
      : [...LAMBDA_BUNDLE.externalModules],
  };
}
