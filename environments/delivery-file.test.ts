import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import {
  DELIVERY_FILE,
  DELIVERY_FILE_VARIABLE,
  deliveryFilePath,
  EXAMPLE_DELIVERY_FILE,
  findPlaceholders,
  InvalidDeliveryFileError,
  placeholderRefusal,
  placeholdersFor,
  readDeliveryFile,
  type DeliveryFile,
} from './delivery-file';
import { DEPLOYED_ENVIRONMENTS, loadEnvironment } from '.';

const FILLED = path.join(__dirname, '..', 'test', 'fixtures', 'delivery.config.yaml');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-file-'));

/** The example with `change` applied, written to a file of its own; returns that file's path. */
function exampleWith(change: (content: DeliveryFile) => void, name = 'delivery.config.yaml') {
  const content = parse(fs.readFileSync(EXAMPLE_DELIVERY_FILE, 'utf8')) as DeliveryFile;
  change(content);
  const file = path.join(fs.mkdtempSync(path.join(scratch, 'case-')), name);
  fs.writeFileSync(file, stringify(content));
  return file;
}

describe('the example delivery file', () => {
  it('validates, and every deployed environment is built from it', () => {
    // Prepare
    const example = readDeliveryFile(EXAMPLE_DELIVERY_FILE);
    // Act / Assess
    for (const name of DEPLOYED_ENVIRONMENTS) {
      const config = loadEnvironment(name, example);
      expect(config.region).toBe(example.region);
      expect(config.alarms.email).toBe(example.environments[name].alarmEmail);
      expect(config.lambda.accountConcurrency).toBe(example.environments[name].accountConcurrency);
      expect(config.domain).toEqual(example.environments[name].domain);
    }
    expect(loadEnvironment('prod', example).account).toBe(example.environments.prod.account);
  });

  it('is what tests read (test/setup.ts), whatever delivery.config.yaml a deployment holds', () => {
    expect(deliveryFilePath()).toBe(EXAMPLE_DELIVERY_FILE);
  });

  it('takes the site values of the file: a filled-in file changes the environments', () => {
    const filled = readDeliveryFile(FILLED);
    const prod = loadEnvironment('prod', filled);
    expect(prod.account).toBe('867530912340');
    expect(prod.lambda.accountConcurrency).toBe(3000);
    expect(prod.domain?.name).toBe('orders.northwind-shop.net');
  });
});

describe('where the delivery file is', () => {
  it('is DELIVERY_CONFIG when set, else delivery.config.yaml at the root, else the example', () => {
    expect(deliveryFilePath({ [DELIVERY_FILE_VARIABLE]: 'test/fixtures/delivery.config.yaml' })).toBe(
      path.resolve('test/fixtures/delivery.config.yaml'),
    );
    expect(deliveryFilePath({})).toBe(fs.existsSync(DELIVERY_FILE) ? DELIVERY_FILE : EXAMPLE_DELIVERY_FILE);
  });
});

describe('the loader refuses a broken file, naming the file and each field', () => {
  const refusal = (file: string) => {
    try {
      readDeliveryFile(file);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidDeliveryFileError);
      return (error as Error).message;
    }
    throw new Error(`${file} was accepted`);
  };

  it('refuses unknown keys, at the top and inside an environment', () => {
    const message = refusal(
      exampleWith((content) => {
        Object.assign(content, { accounts: { dev: '111111111111' } });
        Object.assign(content.environments.prod, { memoryMb: 1024 });
      }),
    );
    expect(message).toMatch(/delivery\.config\.yaml is not a valid delivery config/);
    expect(message).toMatch(/- \(root\): Unrecognized key: "accounts"/);
    expect(message).toMatch(/- environments\.prod: Unrecognized key: "memoryMb"/);
  });

  it('refuses bad account ids, and says to quote one YAML read as a number', () => {
    const message = refusal(
      exampleWith((content) => {
        content.environments.dev.account = '1234';
        Object.assign(content.environments.staging, { account: 12345678901 });
        delete (content.environments.prod as Partial<DeliveryFile['environments']['prod']>).account;
      }),
    );
    expect(message).toMatch(/environments\.dev\.account: must be a 12-digit AWS account id/);
    expect(message).toMatch(/environments\.staging\.account: write the account id in quotes/);
    expect(message).toMatch(/environments\.prod\.account: /);
  });

  it("refuses a connection, certificate or prefix list of another region than the file's", () => {
    const message = refusal(
      exampleWith((content) => {
        content.region = 'us-east-1';
      }),
    );
    expect(message).toMatch(
      /connectionArn: the connection must be in the pipelines' region us-east-1, not eu-west-1/,
    );
    expect(message).toMatch(
      /environments\.prod\.domain\.certificateArn: the certificate must be in us-east-1, not eu-west-1/,
    );
    expect(message).toMatch(/gatewayPrefixLists\.s3: pl-6da54004 is eu-west-1's list, not us-east-1's/);
  });

  it('refuses a connection outside the tooling account and a certificate of another account', () => {
    const message = refusal(
      exampleWith((content) => {
        content.toolingAccount = '555555555555';
        const domain = content.environments.prod.domain!;
        domain.certificateArn = domain.certificateArn!.replace('333333333333', '222222222222');
      }),
    );
    expect(message).toMatch(/connectionArn: the connection must belong to the tooling account 555555555555/);
    expect(message).toMatch(
      /environments\.prod\.domain\.certificateArn: the certificate must belong to the environment's account 333333333333, not 222222222222/,
    );
  });

  it('refuses a file that is missing or not YAML', () => {
    expect(refusal(path.join(scratch, 'absent.yaml'))).toMatch(
      /absent\.yaml is not a valid delivery config:\n {2}- cannot be read/,
    );
    const broken = path.join(scratch, 'broken.yaml');
    fs.writeFileSync(broken, 'region: [eu-west-1\n');
    expect(refusal(broken)).toMatch(/broken\.yaml is not a valid delivery config:\n {2}- is not YAML/);
  });
});

describe('placeholders', () => {
  const example = readDeliveryFile(EXAMPLE_DELIVERY_FILE);

  it('are every site value of the example, each named with its value', () => {
    expect(findPlaceholders(example)).toEqual([
      { path: 'toolingAccount', value: '444444444444' },
      { path: 'repository.owner', value: 'example-org' },
      { path: 'connectionArn', value: example.connectionArn },
      { path: 'environments.dev.account', value: '111111111111' },
      { path: 'environments.dev.alarmEmail', value: 'orders-dev@example.com' },
      { path: 'environments.staging.account', value: '222222222222' },
      { path: 'environments.staging.alarmEmail', value: 'orders-staging@example.com' },
      { path: 'environments.staging.domain.name', value: 'orders.staging.example.com' },
      { path: 'environments.staging.domain.hostedZone.id', value: 'Z00000000000000STAGE' },
      { path: 'environments.staging.domain.hostedZone.name', value: 'staging.example.com' },
      { path: 'environments.prod.account', value: '333333333333' },
      { path: 'environments.prod.alarmEmail', value: 'orders-oncall@example.com' },
      { path: 'environments.prod.domain.name', value: 'orders.example.com' },
      { path: 'environments.prod.domain.hostedZone.id', value: 'Z0000000000000000PROD' },
      { path: 'environments.prod.domain.hostedZone.name', value: 'example.com' },
      {
        path: 'environments.prod.domain.certificateArn',
        value: example.environments.prod.domain!.certificateArn,
      },
    ]);
  });

  it('are none in a filled-in file', () => {
    expect(findPlaceholders(readDeliveryFile(FILLED))).toEqual([]);
    expect(placeholderRefusal(FILLED, [])).toBeUndefined();
  });

  it("include AWS's documentation account 123456789012", () => {
    const withDocsAccount = readDeliveryFile(
      exampleWith((content) => void (content.environments.dev.account = '123456789012')),
    );
    expect(findPlaceholders(withDocsAccount)).toContainEqual({
      path: 'environments.dev.account',
      value: '123456789012',
    });
  });

  it('that a stage deployed on its own uses: its environment and the shared values', () => {
    const dev = placeholdersFor(findPlaceholders(example), { environments: ['dev'], pipeline: false });
    expect(dev.map((placeholder) => placeholder.path)).toEqual([
      'toolingAccount',
      'environments.dev.account',
      'environments.dev.alarmEmail',
    ]);
    const prodPipeline = placeholdersFor(findPlaceholders(example), {
      environments: ['prod'],
      pipeline: true,
    });
    expect(prodPipeline.map((placeholder) => placeholder.path)).toEqual(
      expect.arrayContaining(['repository.owner', 'connectionArn', 'environments.prod.account']),
    );
    expect(prodPipeline.some((placeholder) => placeholder.path.startsWith('environments.dev'))).toBe(false);
  });

  it('refuse with one message naming each with its value and the fix', () => {
    const message = placeholderRefusal(
      EXAMPLE_DELIVERY_FILE,
      placeholdersFor(findPlaceholders(example), { environments: ['dev'], pipeline: false }),
    );
    expect(message).toBe(
      'examples/delivery.config.yaml still holds placeholders: toolingAccount (444444444444), ' +
        'environments.dev.account (111111111111), environments.dev.alarmEmail (orders-dev@example.com); ' +
        'copy it to delivery.config.yaml and replace them (README, Deploying)',
    );
    const own = exampleWith(() => undefined);
    expect(placeholderRefusal(own, [{ path: 'environments.prod.account', value: '333333333333' }])).toBe(
      `${own} still holds placeholders: environments.prod.account (333333333333); replace them (README, Deploying)`,
    );
  });
});
