/**
 * Jest transform: TypeScript (and the ESM-only packages we depend on) to CommonJS with esbuild,
 * the same compiler that bundles the Lambdas. Type checking stays with `npm run typecheck`.
 * (ts-jest needs TypeScript < 7, and SWC's platform binaries are not served by every registry.)
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { transformSync, version } = require('esbuild');

// Cached results are keyed by this file and esbuild's version as well as the source.
const transformerKey = createHash('sha256').update(readFileSync(__filename)).update(version).digest('hex');

module.exports = {
  getCacheKey(sourceText, sourcePath) {
    return createHash('sha256').update(transformerKey).update(sourcePath).update(sourceText).digest('hex');
  },
  process(sourceText, sourcePath) {
    const { code, map } = transformSync(sourceText, {
      loader: sourcePath.endsWith('.ts') ? 'ts' : 'js',
      format: 'cjs',
      target: 'node20',
      // Jest's CommonJS runtime cannot take a native import(): make it a require().
      supported: { 'dynamic-import': false },
      sourcemap: 'external',
      sourcesContent: false,
      sourcefile: sourcePath,
    });
    return { code, map };
  },
};
