import { loadEnvironment } from '../../environments';
import { synthesizeTemplates } from '../local/synthesize';
import { coldStartEnvironment } from './bundles';

jest.setTimeout(120_000);

describe('coldStartEnvironment', () => {
  it('sets every variable the template gives a function, so each bundle loads as deployed', async () => {
    // Arrange
    const templates = await synthesizeTemplates(loadEnvironment('local'));
    const names = new Set<string>();
    for (const template of Object.values(templates)) {
      for (const resource of Object.values(template.Resources)) {
        if (resource.Type !== 'AWS::Lambda::Function') continue;
        const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> })
          ?.Variables;
        for (const name of Object.keys(variables ?? {})) names.add(name);
      }
    }
    // Act
    const environment = coldStartEnvironment();
    // Assess: variables with a default (Powertools', the completion rules') aside.
    const optional = new Set([
      'AWS_NODEJS_CONNECTION_REUSE_ENABLED',
      'COMPLETION_RULES',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_LOG_LEVEL',
    ]);
    const missing = [...names].filter((name) => !(name in environment) && !optional.has(name));
    expect(names.size).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });
});
