import { installOnly, readBuildSpec } from './build-spec';

type WithNode = { phases: { install: { 'runtime-versions'?: Record<string, unknown> } } };
const nodeOf = (spec: unknown) => Number((spec as WithNode).phases.install['runtime-versions']?.nodejs);

describe('buildspec.yml', () => {
  it('builds on Node 22 LTS or newer (SDK v3 releases after early January 2027 need it)', () => {
    // Prepare
    const spec = readBuildSpec();
    // Act / Assess: the build and the post-deploy steps, which install from the same phase.
    expect(nodeOf(spec)).toBeGreaterThanOrEqual(22);
    expect(nodeOf(installOnly(spec))).toBeGreaterThanOrEqual(22);
  });
});
