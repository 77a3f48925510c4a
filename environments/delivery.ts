import { z } from 'zod';
import { connectionArnSchema, loadDeliveryFile, repositorySchema, type DeliveryFile } from './delivery-file';
import { accountIdSchema, DEPLOYED_ENVIRONMENTS, regionSchema } from './schema';

export { DEPLOYED_ENVIRONMENTS, type DeployedEnvironmentName } from './schema';

const branch = z.string().regex(/^[A-Za-z0-9._/-]+$/, 'must be a Git branch name');

const stageSchema = z.strictObject({
  environment: z.enum(DEPLOYED_ENVIRONMENTS),
  /** A person approves in the console before this environment is deployed. */
  manualApproval: z.boolean(),
  /**
   * What the post-deploy step proves: `stress` (the environment's full stress profile) or `smoke`
   * (its small profile). Both run `npm run stress:<environment>` and fail the pipeline on a missed
   * threshold; the label names the step.
   */
  postDeployTest: z.enum(['stress', 'smoke']),
});

const pipelineSchema = z.strictObject({
  /** Construct id of the pipeline stack (`<name>Pipeline`), PascalCase. */
  name: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'must be PascalCase'),
  /** A push to this branch runs the pipeline. */
  branch,
  /** Environments in promotion order; a failed post-deploy test stops the promotion. */
  stages: z.array(stageSchema).min(1),
});

const deliverySchema = z
  .strictObject({
    /** The account holding the pipelines, the connection and the pull-request check. */
    toolingAccount: accountIdSchema,
    /** Region of the pipelines (and of the connection). */
    region: regionSchema,
    /** The GitHub repository the connection gives access to. */
    repository: repositorySchema,
    /**
     * The CodeConnections (formerly CodeStar Connections) connection to the repository's host,
     * created once in the console and authorised there (README, Deploying). No token in code.
     * The delivery file checks that it is in the tooling account and region.
     */
    connectionArn: connectionArnSchema,
    /** The account each pipeline-deployed environment lives in. */
    accounts: z.partialRecord(z.enum(DEPLOYED_ENVIRONMENTS), accountIdSchema),
    pipelines: z.array(pipelineSchema).min(1),
    /**
     * Pull requests into `baseBranches` run buildspec.yml in a CodeBuild project that lives in the
     * stack of `pipeline`, so that pipeline's self-mutation keeps it current.
     */
    pullRequestCheck: z.strictObject({
      pipeline: z.string(),
      baseBranches: z.array(branch).min(1),
    }),
  })
  .superRefine((config, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (!config.pipelines.some((pipeline) => pipeline.name === config.pullRequestCheck.pipeline)) {
      issue(['pullRequestCheck', 'pipeline'], `no pipeline is named ${config.pullRequestCheck.pipeline}`);
    }
    const seen = new Set<string>();
    config.pipelines.forEach((pipeline, p) => {
      if (config.pipelines.findIndex((other) => other.name === pipeline.name) !== p) {
        issue(['pipelines', p, 'name'], `pipeline name ${pipeline.name} is used twice`);
      }
      if (config.pipelines.findIndex((other) => other.branch === pipeline.branch) !== p) {
        issue(['pipelines', p, 'branch'], `branch ${pipeline.branch} drives two pipelines`);
      }
      pipeline.stages.forEach((stage, s) => {
        const path = ['pipelines', p, 'stages', s];
        if (seen.has(stage.environment)) {
          issue([...path, 'environment'], `${stage.environment} is deployed by two stages`);
        }
        seen.add(stage.environment);
        if (!config.accounts[stage.environment]) {
          issue(
            ['accounts', stage.environment],
            `${stage.environment} is deployed by a pipeline: name its account`,
          );
        }
        if (stage.environment === 'prod' && !stage.manualApproval) {
          issue([...path, 'manualApproval'], 'prod is only deployed after a manual approval');
        }
      });
    });
  });

/** The validated delivery configuration. */
export type DeliveryConfig = z.output<typeof deliverySchema>;
/** What the delivery configuration is built from: the delivery file's values and {@link PIPELINES}. */
export type DeliveryInput = z.input<typeof deliverySchema>;
export type PipelineConfig = DeliveryConfig['pipelines'][number];
export type PipelineStageConfig = PipelineConfig['stages'][number];

/**
 * What the pipelines deploy: `develop` -> nonprod (dev, staging, each followed by its stress test),
 * `main` -> prod (manual approval, prod, smoke test), pull requests into either checked.
 */
export const PIPELINES: Pick<DeliveryInput, 'pipelines' | 'pullRequestCheck'> = {
  pipelines: [
    {
      name: 'NonProd',
      branch: 'develop',
      stages: [
        { environment: 'dev', manualApproval: false, postDeployTest: 'stress' },
        { environment: 'staging', manualApproval: false, postDeployTest: 'stress' },
      ],
    },
    {
      name: 'Prod',
      branch: 'main',
      stages: [{ environment: 'prod', manualApproval: true, postDeployTest: 'smoke' }],
    },
  ],
  pullRequestCheck: { pipeline: 'NonProd', baseBranches: ['develop', 'main'] },
};

/** The delivery configuration: {@link PIPELINES} where the delivery file says they live. */
export function deliveryInput(file: DeliveryFile): DeliveryInput {
  // A copy: callers may change it (tests do), the file is read once.
  return structuredClone({
    toolingAccount: file.toolingAccount,
    region: file.region,
    repository: file.repository,
    connectionArn: file.connectionArn,
    accounts: Object.fromEntries(
      DEPLOYED_ENVIRONMENTS.map((name) => [name, file.environments[name].account]),
    ),
    ...PIPELINES,
  });
}

/** Thrown when the delivery configuration breaks the schema or a cross-field rule. */
export class InvalidDeliveryError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid delivery config:\n  - ${problems.join('\n  - ')}`);
    this.name = 'InvalidDeliveryError';
  }
}

/**
 * Validates a delivery configuration.
 * @throws InvalidDeliveryError listing every problem with its path.
 */
export function validateDelivery(input: unknown): DeliveryConfig {
  const result = deliverySchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidDeliveryError(
    result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  );
}

/** The validated delivery configuration of the delivery file in use (or of `file`). */
export function loadDelivery(file: DeliveryFile = loadDeliveryFile()): DeliveryConfig {
  return validateDelivery(deliveryInput(file));
}
