import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { REPO_ROOT } from '../infra/constructs/order-pipeline-function';

/** The repository's one description of its build: `buildspec.yml` at the root. */
export const BUILDSPEC_FILE = 'buildspec.yml';

const phase = z.strictObject({
  'runtime-versions': z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  commands: z.array(z.string().min(1)).min(1),
});

/**
 * The parts of a CodeBuild buildspec this repository uses. No `artifacts`: the pull-request check
 * keeps nothing, and the pipeline's synth step adds `cdk.out` as its own output.
 */
const buildSpecSchema = z.strictObject({
  version: z.union([z.literal(0.2), z.literal('0.2')]),
  env: z.strictObject({ variables: z.record(z.string(), z.string()) }).optional(),
  phases: z.strictObject({ install: phase, pre_build: phase.optional(), build: phase }),
});
export type BuildSpecDocument = z.infer<typeof buildSpecSchema>;

/**
 * Reads and checks `buildspec.yml`, so the pipeline's steps run exactly what the pull-request
 * check runs.
 * @throws Error naming the file and every problem when it does not have the expected shape.
 */
export function readBuildSpec(file = path.join(REPO_ROOT, BUILDSPEC_FILE)): BuildSpecDocument {
  const result = buildSpecSchema.safeParse(parse(fs.readFileSync(file, 'utf8')));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`${file} is not a buildspec this project can run:\n  - ${problems.join('\n  - ')}`);
  }
  return result.data;
}

/** The buildspec without its build phases: how a step that runs other commands gets the toolchain. */
export function installOnly(spec: BuildSpecDocument): Record<string, unknown> {
  return { version: spec.version, env: spec.env, phases: { install: spec.phases.install } };
}
