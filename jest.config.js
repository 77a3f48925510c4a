/** Jest compiles TypeScript with esbuild (test/esbuild-transform.js); type checks belong to `npm run typecheck`. */
const transform = { '^.+\\.(t|j|mj)s$': '<rootDir>/test/esbuild-transform.js' };
// uuid ships ESM only; let esbuild turn it into CommonJS for Jest.
const transformIgnorePatterns = ['node_modules/(?!(uuid)/)'];
const common = {
  transform,
  transformIgnorePatterns,
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/setup.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/lambdas/**/*.test.ts',
        '<rootDir>/environments/**/*.test.ts',
        '<rootDir>/scripts/**/*.test.ts',
        '<rootDir>/test/hostile/**/*.test.ts',
      ],
    },
    {
      ...common,
      displayName: 'infra',
      testMatch: ['<rootDir>/infra/**/*.test.ts', '<rootDir>/pipeline/**/*.test.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
