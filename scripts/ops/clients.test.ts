import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type PutSecretValueCommandInput,
  type UpdateSecretVersionStageCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { UsageError } from './cli';
import { parseClientsArgs } from './clients-arguments';
import {
  applyClientChange,
  changeClient,
  ClientChangeRefusedError,
  clientsThatFit,
  ConcurrentChangeError,
  documentBytes,
  GENERATED_SECRET_LENGTH,
  generateClientSecret,
  readClients,
  SECRET_VALUE_MAX_BYTES,
  SecretTooLargeError,
  writeClients,
  type ClientsDocument,
} from './clients';

const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:clients-AbCdEf';
const secretsMock = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({ region: 'eu-west-1' });

afterEach(() => {
  secretsMock.reset();
});

/** Error as the SDK raises it for a service error. */
function serviceError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });
}

/**
 * Secrets Manager's version and staging-label rules, as documented for PutSecretValue and
 * UpdateSecretVersionStage: one version per label; a put without VersionStages takes AWSCURRENT;
 * a repeated ClientRequestToken with the same value creates nothing; moving AWSCURRENT requires
 * RemoveFromVersionId naming the version that holds it, and moves AWSPREVIOUS to that version.
 */
class FakeSecretsManager {
  readonly versions = new Map<string, { value: string; stages: Set<string> }>();
  calls: string[] = [];

  constructor(initial: string) {
    this.versions.set('v0', { value: initial, stages: new Set(['AWSCURRENT']) });
  }

  holder(stage: string): string | undefined {
    return [...this.versions].find(([, version]) => version.stages.has(stage))?.[0];
  }

  current(): ClientsDocument {
    return JSON.parse(this.versions.get(this.holder('AWSCURRENT') ?? '')?.value ?? '{}') as ClientsDocument;
  }

  private moveLabel(stage: string, to: string): void {
    for (const version of this.versions.values()) version.stages.delete(stage);
    this.versions.get(to)?.stages.add(stage);
  }

  install(): void {
    secretsMock.on(GetSecretValueCommand).callsFake(async () => {
      this.calls.push('get');
      const versionId = this.holder('AWSCURRENT');
      return { VersionId: versionId, SecretString: this.versions.get(versionId ?? '')?.value };
    });
    secretsMock.on(PutSecretValueCommand).callsFake(async (input: PutSecretValueCommandInput) => {
      this.calls.push('put');
      const token = input.ClientRequestToken ?? '';
      const existing = this.versions.get(token);
      if (existing) {
        if (existing.value !== input.SecretString) throw serviceError('ResourceExistsException');
        return { VersionId: token };
      }
      this.versions.set(token, { value: input.SecretString ?? '', stages: new Set() });
      for (const stage of input.VersionStages ?? ['AWSCURRENT']) this.moveLabel(stage, token);
      return { VersionId: token };
    });
    secretsMock
      .on(UpdateSecretVersionStageCommand)
      .callsFake(async (input: UpdateSecretVersionStageCommandInput) => {
        this.calls.push(`stage ${input.VersionStage}`);
        const stage = input.VersionStage ?? '';
        const holder = this.holder(stage);
        if (input.MoveToVersionId === undefined) {
          if (input.RemoveFromVersionId !== holder) throw serviceError('InvalidParameterException');
          this.versions.get(holder ?? '')?.stages.delete(stage);
          return {};
        }
        if (holder !== undefined && input.RemoveFromVersionId !== holder) {
          throw serviceError('InvalidParameterException', `label ${stage} is on version ${holder}`);
        }
        this.moveLabel(stage, input.MoveToVersionId);
        if (stage === 'AWSCURRENT' && holder !== undefined) this.moveLabel('AWSPREVIOUS', holder);
        return {};
      });
    secretsMock.on(DescribeSecretCommand).callsFake(async () => {
      this.calls.push('describe');
      return {
        VersionIdsToStages: Object.fromEntries(
          [...this.versions].map(([id, version]) => [id, [...version.stages]]),
        ),
      };
    });
  }
}

const sequence = (...secrets: string[]) => {
  const queue = [...secrets];
  return () => queue.shift() ?? 'exhausted';
};

describe('applyClientChange', () => {
  const base: ClientsDocument = { clients: { alpha: ['a-1'] }, note: 'kept' };

  it('adds a client with one new secret and keeps the rest of the document', () => {
    // Act
    const result = applyClientChange(base, { kind: 'add', clientId: 'beta' }, () => 'b-1');

    // Assess
    expect(result).toEqual({
      document: { clients: { alpha: ['a-1'], beta: ['b-1'] }, note: 'kept' },
      secret: 'b-1',
    });
    expect(base.clients).toEqual({ alpha: ['a-1'] });
  });

  it('rotates: the new secret first, the old one still valid; retire keeps only the newest', () => {
    // Act
    const rotated = applyClientChange(base, { kind: 'rotate', clientId: 'alpha' }, () => 'a-2');
    const retired = applyClientChange(rotated.document, { kind: 'retire', clientId: 'alpha' });

    // Assess
    expect(rotated.document.clients.alpha).toEqual(['a-2', 'a-1']);
    expect(rotated.secret).toBe('a-2');
    expect(retired.document.clients.alpha).toEqual(['a-2']);
    expect(retired.secret).toBeUndefined();
  });

  it('removes a client', () => {
    // Act / Assess
    expect(applyClientChange(base, { kind: 'remove', clientId: 'alpha' }).document.clients).toEqual({});
  });

  it.each([
    ['adding an existing client', { kind: 'add', clientId: 'alpha' }, /exists/],
    ['rotating an unknown client', { kind: 'rotate', clientId: 'nobody' }, /no client nobody/],
    ['retiring with one secret', { kind: 'retire', clientId: 'alpha' }, /nothing to retire/],
    ['removing an unknown client', { kind: 'remove', clientId: 'nobody' }, /no client/],
    ['a malformed id', { kind: 'add', clientId: 'a b' }, /client id/],
    ['__proto__ as an unknown client', { kind: 'remove', clientId: '__proto__' }, /no client/],
  ] as const)('refuses %s', (_name, change, message) => {
    // Act / Assess
    expect(() => applyClientChange(base, change)).toThrow(ClientChangeRefusedError);
    expect(() => applyClientChange(base, change)).toThrow(message);
  });

  it('refuses a third secret: rotate twice without retire', () => {
    // Prepare
    const rotated = applyClientChange(base, { kind: 'rotate', clientId: 'alpha' }, () => 'a-2').document;

    // Act / Assess
    expect(() => applyClientChange(rotated, { kind: 'rotate', clientId: 'alpha' })).toThrow(/retire/);
  });

  it('generates 256-bit base64url secrets, each different', () => {
    // Act
    const secrets = new Set(Array.from({ length: 100 }, generateClientSecret));

    // Assess
    expect(secrets.size).toBe(100);
    for (const secret of secrets)
      expect(secret).toMatch(new RegExp(`^[A-Za-z0-9_-]{${GENERATED_SECRET_LENGTH}}$`));
  });
});

describe('clientsThatFit', () => {
  it.each([
    [64, 2],
    [64, 1],
    [8, 1],
  ])('is exact for %i-character ids with %i secret(s)', (idLength, secretsPerClient) => {
    // Prepare
    const fit = clientsThatFit(idLength, secretsPerClient);
    const documentOf = (count: number): ClientsDocument => ({
      clients: Object.fromEntries(
        Array.from({ length: count }, (_, i) => [
          String(i).padStart(idLength, '0'),
          Array.from({ length: secretsPerClient }, generateClientSecret),
        ]),
      ),
    });

    // Act / Assess
    expect(documentBytes(documentOf(fit))).toBeLessThanOrEqual(SECRET_VALUE_MAX_BYTES);
    expect(documentBytes(documentOf(fit + 1))).toBeGreaterThan(SECRET_VALUE_MAX_BYTES);
  });
});

describe('readClients', () => {
  it('reads the AWSCURRENT document and its version', async () => {
    // Prepare
    secretsMock
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolves({ VersionId: 'v7', SecretString: '{"clients":{"a":["s"]}}' });

    // Act / Assess
    await expect(readClients(client, SECRET_ID)).resolves.toEqual({
      versionId: 'v7',
      document: { clients: { a: ['s'] } },
    });
  });

  it('refuses to build on a document the publisher would refuse, without echoing values', async () => {
    // Prepare
    secretsMock.on(GetSecretValueCommand).resolves({ VersionId: 'v1', SecretString: '{"clients":{"a":[]}}' });

    // Act / Assess
    await expect(readClients(client, SECRET_ID)).rejects.toThrow(/wrong shape at: clients.a/);
  });
});

describe('writeClients', () => {
  const base = { versionId: 'v0', document: { clients: { a: ['s'] } } };
  const next = { clients: { a: ['s'], b: ['t'] } };

  it('puts the new version as AWSPENDING, then moves AWSCURRENT from the version it read', async () => {
    // Prepare
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'token-1' });
    secretsMock.on(UpdateSecretVersionStageCommand).resolves({});

    // Act
    const versionId = await writeClients(client, SECRET_ID, base, next, 'token-1');

    // Assess
    expect(versionId).toBe('token-1');
    expect(secretsMock.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: SECRET_ID,
      ClientRequestToken: 'token-1',
      SecretString: JSON.stringify(next),
      VersionStages: ['AWSPENDING'],
    });
    expect(
      secretsMock.commandCalls(UpdateSecretVersionStageCommand).map((call) => call.args[0].input),
    ).toEqual([
      {
        SecretId: SECRET_ID,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: 'token-1',
        RemoveFromVersionId: 'v0',
      },
      { SecretId: SECRET_ID, VersionStage: 'AWSPENDING', RemoveFromVersionId: 'token-1' },
    ]);
  });

  it('reports a concurrent change when AWSCURRENT moved to another version since the read', async () => {
    // Prepare
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'token-1' });
    secretsMock
      .on(UpdateSecretVersionStageCommand)
      .rejects(serviceError('InvalidParameterException', 'AWSCURRENT is on v1'));
    secretsMock.on(DescribeSecretCommand).resolves({
      VersionIdsToStages: { v0: ['AWSPREVIOUS'], v1: ['AWSCURRENT'], 'token-1': ['AWSPENDING'] },
    });

    // Act
    const write = writeClients(client, SECRET_ID, base, next, 'token-1');

    // Assess
    await expect(write).rejects.toThrow(ConcurrentChangeError);
    await expect(write).rejects.toThrow(/read version v0, current is now v1.*not applied/);
  });

  it('succeeds when the stage move happened but its answer was lost (a retry then fails)', async () => {
    // Prepare
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'token-1' });
    secretsMock
      .on(UpdateSecretVersionStageCommand, { VersionStage: 'AWSCURRENT' })
      .rejects(serviceError('InvalidParameterException'));
    secretsMock.on(DescribeSecretCommand).resolves({
      VersionIdsToStages: { v0: ['AWSPREVIOUS'], 'token-1': ['AWSCURRENT', 'AWSPENDING'] },
    });

    // Act / Assess
    await expect(writeClients(client, SECRET_ID, base, next, 'token-1')).resolves.toBe('token-1');
  });

  it('passes on any other failure of the stage move while the read version is still current', async () => {
    // Prepare
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'token-1' });
    secretsMock.on(UpdateSecretVersionStageCommand).rejects(serviceError('AccessDeniedException', 'denied'));
    secretsMock.on(DescribeSecretCommand).resolves({
      VersionIdsToStages: { v0: ['AWSCURRENT'], 'token-1': ['AWSPENDING'] },
    });

    // Act / Assess
    await expect(writeClients(client, SECRET_ID, base, next, 'token-1')).rejects.toThrow('denied');
  });

  it('refuses a document over 64 KiB before calling Secrets Manager, saying how many clients fit', async () => {
    // Prepare
    const huge = {
      clients: Object.fromEntries(
        Array.from({ length: clientsThatFit(64, 1) + 1 }, (_, i) => [
          String(i).padStart(64, '0'),
          [generateClientSecret()],
        ]),
      ),
    };

    // Act
    const write = writeClients(client, SECRET_ID, base, huge);

    // Assess
    await expect(write).rejects.toThrow(SecretTooLargeError);
    await expect(write).rejects.toThrow(
      new RegExp(`over Secrets Manager's 65536-byte limit; about ${clientsThatFit()} clients`),
    );
    expect(secretsMock.calls()).toHaveLength(0);
  });
});

describe('changeClient against the documented label rules', () => {
  it('adds a client: one new version, AWSCURRENT on it, AWSPREVIOUS on the old one', async () => {
    // Prepare
    const fake = new FakeSecretsManager('{"clients":{"demo":["d-1"]}}');
    fake.install();

    // Act
    const result = await changeClient(client, SECRET_ID, { kind: 'add', clientId: 'second' }, () => 'n-1');

    // Assess
    expect(result.secret).toBe('n-1');
    expect(fake.current()).toEqual({ clients: { demo: ['d-1'], second: ['n-1'] } });
    expect(fake.holder('AWSCURRENT')).toBe(result.versionId);
    expect(fake.holder('AWSPREVIOUS')).toBe('v0');
    expect(fake.holder('AWSPENDING')).toBeUndefined();
  });

  it('two operators at once: the second write is refused, the first change is kept, a re-run applies both', async () => {
    // Prepare: both read v0 before either writes.
    const fake = new FakeSecretsManager('{"clients":{"demo":["d-1"]}}');
    fake.install();
    const readA = await readClients(client, SECRET_ID);
    const readB = await readClients(client, SECRET_ID);
    const changeA = applyClientChange(readA.document, { kind: 'add', clientId: 'alpha' }, () => 'a-1');
    const changeB = applyClientChange(readB.document, { kind: 'remove', clientId: 'demo' });

    // Act
    await writeClients(client, SECRET_ID, readA, changeA.document);
    const lost = writeClients(client, SECRET_ID, readB, changeB.document);

    // Assess
    await expect(lost).rejects.toThrow(ConcurrentChangeError);
    expect(fake.current()).toEqual({ clients: { demo: ['d-1'], alpha: ['a-1'] } });
    await changeClient(client, SECRET_ID, { kind: 'remove', clientId: 'demo' });
    expect(fake.current()).toEqual({ clients: { alpha: ['a-1'] } });
  });

  it('a hand edit (PutSecretValue without stages) between read and write is detected too', async () => {
    // Prepare
    const fake = new FakeSecretsManager('{"clients":{"demo":["d-1"]}}');
    fake.install();
    const read = await readClients(client, SECRET_ID);
    await client.send(
      new PutSecretValueCommand({
        SecretId: SECRET_ID,
        ClientRequestToken: 'console-edit',
        SecretString: '{"clients":{"x":["y"]}}',
      }),
    );

    // Act
    const write = writeClients(client, SECRET_ID, read, { clients: { demo: ['d-1'], z: ['z'] } });

    // Assess
    await expect(write).rejects.toThrow(/current is now console-edit/);
    expect(fake.current()).toEqual({ clients: { x: ['y'] } });
  });

  it('a retried PutSecretValue with the same token creates no second version', async () => {
    // Prepare
    const fake = new FakeSecretsManager('{"clients":{"demo":["d-1"]}}');
    fake.install();
    const read = await readClients(client, SECRET_ID);
    const next = { clients: { demo: ['d-1'], b: ['b'] } };
    await client.send(
      new PutSecretValueCommand({
        SecretId: SECRET_ID,
        ClientRequestToken: 't',
        SecretString: JSON.stringify(next),
        VersionStages: ['AWSPENDING'],
      }),
    );

    // Act
    await writeClients(client, SECRET_ID, read, next, 't');

    // Assess
    expect(fake.versions.size).toBe(2);
    expect(fake.current()).toEqual(next);
  });

  it('never puts a secret value into an error', async () => {
    // Prepare
    const fake = new FakeSecretsManager('{"clients":{"demo":["d-secret-value"]}}');
    fake.install();

    // Act
    const failures = await Promise.all(
      (
        [
          { kind: 'add', clientId: 'demo' },
          { kind: 'retire', clientId: 'demo' },
          { kind: 'rotate', clientId: 'nobody' },
        ] as const
      ).map((change) =>
        changeClient(client, SECRET_ID, change, sequence('n-secret')).catch((error: Error) => error),
      ),
    );

    // Assess
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(ClientChangeRefusedError);
      expect(String((failure as Error).message)).not.toMatch(/secret-value|n-secret/);
    }
  });
});

describe('parseClientsArgs', () => {
  it.each([
    [['list'], { kind: 'list', target: { stack: undefined, region: undefined } }],
    [
      ['add', 'shop-2'],
      {
        kind: 'change',
        change: { kind: 'add', clientId: 'shop-2' },
        target: { stack: undefined, region: undefined },
      },
    ],
    [
      ['retire', 'shop-2', '--stack', 'OrderPipeline-prod', '--region', 'eu-west-1'],
      {
        kind: 'change',
        change: { kind: 'retire', clientId: 'shop-2' },
        target: { stack: 'OrderPipeline-prod', region: 'eu-west-1' },
      },
    ],
    [['--help'], { kind: 'help' }],
  ])('parses %j', (argv, expected) => {
    // Act / Assess
    expect(parseClientsArgs(argv)).toEqual(expected);
  });

  it.each([
    [[], /give a command/],
    [['grant', 'x'], /unknown command grant/],
    [['add'], /add needs a client id/],
    [['add', 'a', 'b'], /unexpected argument b/],
    [['add', 'a/b'], /client id/],
    [['list', '--region', 'eu-west-1'], /--region goes with --stack/],
    [['list', '--secret', 'x'], /Unknown option/],
  ])('refuses %j', (argv, message) => {
    // Act / Assess
    expect(() => parseClientsArgs(argv)).toThrow(UsageError);
    expect(() => parseClientsArgs(argv)).toThrow(message);
  });
});
