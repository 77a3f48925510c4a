import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../constructs/order-pipeline-function';

const sources = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });

describe('layout', () => {
  it('infra does not depend on the pipeline (only the app entry composes both)', () => {
    const infra = path.join(REPO_ROOT, 'infra');
    const offenders = sources(infra)
      .filter((file) => path.relative(infra, file) !== 'app.ts')
      .filter((file) => /from '(\.\.\/)+pipeline\//.test(fs.readFileSync(file, 'utf8')))
      .map((file) => path.relative(REPO_ROOT, file));
    expect(offenders).toEqual([]);
  });
});
