import { checkPlaceholders } from './configuration';
import { TARGET } from './testing';

describe('checkPlaceholders', () => {
  it('fails naming each placeholder, with the fix', () => {
    // Prepare
    const target = {
      ...TARGET,
      placeholders: {
        file: 'delivery.config.yaml',
        fields: ['environments.staging.account (222222222222)', 'toolingAccount (444444444444)'],
        fix: 'replace them (README, Deploying)',
      },
    };
    // Act / Assess
    expect(checkPlaceholders(target)).toEqual({
      check: 'placeholders',
      status: 'fail',
      summary:
        'delivery.config.yaml still holds placeholders: environments.staging.account (222222222222), toolingAccount (444444444444)',
      fix: 'replace them (README, Deploying)',
    });
  });

  it('passes on a file without placeholders for the environment, and skips the local stack', () => {
    const filled = { file: 'delivery.config.yaml', fields: [], fix: 'replace them' };
    expect(checkPlaceholders({ ...TARGET, placeholders: filled })).toMatchObject({ status: 'pass' });
    expect(checkPlaceholders({ ...TARGET, placeholders: undefined })).toMatchObject({
      status: 'skip',
      summary: 'staging takes nothing from the delivery file',
    });
  });
});
