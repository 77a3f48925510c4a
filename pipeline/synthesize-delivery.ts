import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { loadDelivery, type DeliveryConfig } from '../environments/delivery';
import { addNagChecks, projectContext } from '../infra/stacks/synthesize';
import { addDeliveryPipelines } from './delivery-app';
import type { DeliveryPipelineStack } from './delivery-pipeline-stack';

export interface SynthesizedDelivery {
  readonly stacks: readonly DeliveryPipelineStack[];
  readonly assembly: CloudAssembly;
  /** Every template written: the pipeline stacks and the stage stacks nested in them. */
  readonly templatePaths: readonly string[];
}

/**
 * Synthesizes the delivery pipelines in their own App, as `cdk synth` would but without bundling
 * the Lambdas (tests only look at templates), optionally with the cdk-nag packs.
 */
export function synthesizeDelivery(
  options: { delivery?: DeliveryConfig; nag?: boolean; outdir?: string } = {},
): SynthesizedDelivery {
  const outdir = options.outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'order-pipeline-delivery-'));
  const app = new App({ outdir, context: { ...projectContext(), 'aws:cdk:bundling-stacks': [] } });
  if (options.nag) addNagChecks(app);
  const stacks = addDeliveryPipelines(app, options.delivery ?? loadDelivery());
  const assembly = app.synth();
  const templatePaths = [assembly, ...assembly.nestedAssemblies.map((nested) => nested.nestedAssembly)]
    .flatMap((nested) => nested.stacks)
    .map((artifact) => artifact.templateFullPath);
  return { stacks, assembly, templatePaths };
}
