import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { handlerBuildOptions } from '../../infra/constructs/lambda-bundling';
import { ENV } from '../../lambdas/shared/runtime-contract';
import { median } from './publisher-cpu';

/** One handler bundled as deployed (and, for comparison, with the SDK left to node_modules). */
export interface HandlerBundle {
  name: string;
  /** The bundle as deployed. */
  file: string;
  /** Minified JavaScript, bytes (the source map not counted). */
  bytes: number;
  /** `@aws-sdk/client-*` packages inside, from esbuild's metafile. */
  clients: string[];
  /** The same handler with `@aws-sdk/*` and `@smithy/*` external (resolved from node_modules). */
  sdkExternalFile: string;
}

/** The `@aws-sdk/client-*` packages among a metafile's inputs. */
export function sdkClientsOf(inputs: readonly string[]): string[] {
  const clients = new Set<string>();
  for (const input of inputs) {
    const match = /node_modules\/(@aws-sdk\/client-[^/]+)\//.exec(input);
    if (match?.[1]) clients.add(match[1]);
  }
  return [...clients].sort();
}

/**
 * Bundles `entry` with the deployed settings into `outDir` (which must sit under the repository so
 * the SDK-external variant resolves its packages from node_modules).
 */
export async function bundleForBench(
  root: string,
  name: string,
  entry: string,
  outDir: string,
): Promise<HandlerBundle> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, `${name}.mjs`);
  const sdkExternalFile = path.join(outDir, `${name}.sdk-external.mjs`);
  const deployed = await build({
    ...handlerBuildOptions(path.join(root, entry)),
    absWorkingDir: root,
    outfile: file,
    metafile: true,
    logLevel: 'silent',
  });
  await build({
    ...handlerBuildOptions(path.join(root, entry), { sdkExternal: true }),
    absWorkingDir: root,
    outfile: sdkExternalFile,
    logLevel: 'silent',
  });
  const output = Object.entries(deployed.metafile.outputs).find(([out]) => out.endsWith('.mjs'));
  if (!output) throw new Error(`esbuild wrote no bundle for ${entry}`);
  return {
    name,
    file,
    bytes: output[1].bytes,
    clients: sdkClientsOf(Object.keys(deployed.metafile.inputs)),
    sdkExternalFile,
  };
}

/** The variables every handler reads at cold start, with placeholder values. */
export function coldStartEnvironment(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME: 'bench',
    // As deployed (the function construct sets it): source maps cost at load time.
    NODE_OPTIONS: '--enable-source-maps',
    [ENV.ordersTable]: 'orders',
    [ENV.billingTable]: 'billing',
    [ENV.failedOrdersTable]: 'failed-orders',
    [ENV.archiveBucket]: 'archive',
    [ENV.stateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:orders',
    [ENV.clientSecretsId]: 'client-secrets',
    [ENV.orderIdKeySecretId]: 'order-id-key',
    [ENV.secretsCacheSeconds]: '60',
    [ENV.orderTotalLimit]: '1000000',
    [ENV.marketCurrencies]: JSON.stringify({ us: ['USD'] }),
    [ENV.failureInjectionRate]: '0',
    [ENV.consumerName]: 'billing',
    [ENV.restartAfterSeconds]: '15',
    [ENV.acceptedDeadlineSeconds]: '240',
    [ENV.publishedDeadlineSeconds]: '600',
    [ENV.maxRestarts]: '3',
    [ENV.sweepLimit]: '100',
  };
}

const IMPORT_TIMER = `
const started = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - started));
`;

/** Milliseconds one fresh Node process spends importing (loading and initializing) `file`. */
export function coldInitOnce(file: string, environment: Record<string, string>): number {
  const result = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', IMPORT_TIMER, pathToFileURL(file).href],
    { env: environment, encoding: 'utf8' },
  );
  const ms = Number(result.stdout);
  if (result.status !== 0 || !Number.isFinite(ms)) {
    throw new Error(`importing ${file} failed: ${result.stderr || result.error?.message}`);
  }
  return ms;
}

export interface ColdInit {
  medianMs: number;
  sdkExternalMedianMs: number;
  /** medianMs / sdkExternalMedianMs. */
  ratio: number;
  runs: number;
}

/**
 * Median cold init of the bundle and of its SDK-external variant over `runs` fresh processes
 * each, alternating the two so machine noise hits both alike.
 */
export function measureColdInit(bundle: HandlerBundle, runs: number): ColdInit {
  const environment = coldStartEnvironment();
  const bundled: number[] = [];
  const external: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    bundled.push(coldInitOnce(bundle.file, environment));
    external.push(coldInitOnce(bundle.sdkExternalFile, environment));
  }
  const medianMs = median(bundled);
  const sdkExternalMedianMs = median(external);
  return { medianMs, sdkExternalMedianMs, ratio: medianMs / sdkExternalMedianMs, runs };
}
