import { requestsPerWafWindow, WAF_WINDOW_SECONDS } from '../scripts/preflight/stress';
import { RATE_LIMIT_WINDOW_SECONDS } from '../infra/constructs/api';
import { ENVIRONMENT_NAMES, loadEnvironment, type EnvironmentConfig } from '.';

/**
 * Where an environment's WAF limits would stop its own stress (or smoke) profile: the stress tool
 * sends every request from one IP and as one client id, so both the per-IP and the per-client
 * limit must let a run and an immediate rerun through one evaluation window.
 */
function wafLimitProblems(config: EnvironmentConfig): string[] {
  if (!config.wafEnabled) return [];
  const needed = 2 * requestsPerWafWindow(config.stress);
  const problems: string[] = [];
  if (config.wafRateLimit < needed) {
    problems.push(
      `${config.name}: wafRateLimit ${config.wafRateLimit} < ${needed} (two stress runs per window)`,
    );
  }
  if (config.wafClientRateLimit < needed) {
    problems.push(
      `${config.name}: wafClientRateLimit ${config.wafClientRateLimit} < ${needed} (two stress runs per window)`,
    );
  }
  return problems;
}

describe('WAF limits against the stress profiles', () => {
  it('counts in the window the WAF rules use', () => {
    // Assess
    expect(RATE_LIMIT_WINDOW_SECONDS).toBe(WAF_WINDOW_SECONDS);
  });

  it.each(ENVIRONMENT_NAMES)(
    '%s lets two runs of its own stress profile through, per IP and per client',
    (name) => {
      // Act / Assess
      expect(wafLimitProblems(loadEnvironment(name))).toEqual([]);
    },
  );

  it('fires on a per-client limit below a stress run', () => {
    // Prepare
    const staging = loadEnvironment('staging');

    // Act
    const problems = wafLimitProblems({ ...staging, wafClientRateLimit: staging.stress.orders - 1 });

    // Assess
    expect(problems).toEqual([expect.stringMatching(/^staging: wafClientRateLimit \d+ < \d+/)]);
  });

  it('fires on a per-IP limit below two runs', () => {
    // Prepare
    const dev = { ...loadEnvironment('dev'), wafEnabled: true };

    // Act
    const problems = wafLimitProblems({ ...dev, wafRateLimit: requestsPerWafWindow(dev.stress) });

    // Assess
    expect(problems).toEqual([expect.stringMatching(/^dev: wafRateLimit/)]);
  });
});
