import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { EnvironmentConfig, EnvironmentInput } from '../../environments';
import { pascal } from '../constructs/naming';
import { REPO_ROOT } from '../constructs/order-pipeline-function';
import { OrderPipelineStage } from './order-pipeline-stage';
import type { SubscriberDefinition } from './subscribers';

/** A CloudFormation template as JSON. */
export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
  [key: string]: unknown;
}

export interface SynthesizeOptions {
  /** Bundle the Lambdas with esbuild; @default false (placeholder code when a handler is missing). */
  readonly bundling?: boolean;
  /** Run the cdk-nag packs (synthesis throws on an unacknowledged finding); @default false */
  readonly nag?: boolean;
  /** Cloud assembly directory; @default a fresh temporary directory */
  readonly outdir?: string;
  /** Subscribers of the orders topic; @default SUBSCRIBERS */
  readonly subscribers?: readonly SubscriberDefinition[];
  /** The delivery pipeline's account trusted by the post-deploy role; @default no post-deploy role */
  readonly postDeployTrustedAccount?: string;
}

export interface SynthesizedEnvironment {
  /** The environment stack's template. */
  readonly template: CfnTemplate;
  /** Where the template was written. */
  readonly templatePath: string;
  readonly stackName: string;
  readonly stage: OrderPipelineStage;
}

/** The feature flags of cdk.json, so an App built in code behaves like `cdk synth`. */
export function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/** Registers the AwsSolutions and Serverless packs; they walk the whole tree, every Stage included. */
export function addNagChecks(app: IConstruct): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}

/**
 * Synthesizes one environment in its own App (as `cdk synth` would, feature flags included) and
 * returns its template. Used by tests and by the local stack, which may override the config
 * (failure injection, filter policies...). Throws InvalidEnvironmentError on a bad config.
 */
export function synthesizeEnvironment(
  config: EnvironmentInput | EnvironmentConfig,
  options: SynthesizeOptions = {},
): SynthesizedEnvironment {
  const outdir = options.outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'order-pipeline-'));
  const app = new App({
    outdir,
    context: {
      ...projectContext(),
      ...(options.bundling ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  if (options.nag) addNagChecks(app);
  const stage = new OrderPipelineStage(app, pascal(config.name), {
    config,
    subscribers: options.subscribers,
    postDeployTrustedAccount: options.postDeployTrustedAccount,
  });
  const assembly = app.synth();
  const artifact = assembly.getNestedAssembly(stage.artifactId).getStackArtifact(stage.stack.artifactId);
  return {
    template: artifact.template as CfnTemplate,
    templatePath: artifact.templateFullPath,
    stackName: artifact.stackName,
    stage,
  };
}
