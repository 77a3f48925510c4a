import { Fn, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The client id a non-prod environment's generated secret holds. */
export const DEMO_CLIENT_ID = 'demo-client';

/**
 * The client the pipeline's post-deploy smoke and stress tests sign as, in every environment.
 * Reserved: no real client may use it, so reports can leave its orders out.
 */
export const SMOKE_CLIENT_ID = 'smoke-test';

export interface ClientSecretsProps {
  /**
   * Whether the secret starts with one generated client (`DEMO_CLIENT_ID`) so smoke and stress
   * tests can sign requests right after deployment. Prod starts with no client.
   * @default true
   */
  readonly generateDemoClient?: boolean;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The JSON secret `{"clients": {"<client id>": ["<secret>", ...]}}` of CONTRACT.md, under its own
 * key. The demo client's value comes from a generated seed secret through a dynamic reference, so
 * no secret material ever appears in the template.
 */
export class ClientSecrets extends Construct {
  public readonly key: kms.Key;
  public readonly secret: secretsmanager.Secret;
  /** The generated demo client secret, when there is one. */
  public readonly demoClientSeed?: secretsmanager.Secret;
  /**
   * The smoke-test client's generated signing secret, a secret of its own so the post-deploy role
   * can read it without reading any other client's.
   */
  public readonly smokeClientSecret: secretsmanager.Secret;
  /**
   * The key of server-made order ids (lambdas/publisher/order-id.ts): generated once, read only by
   * the publisher, never rotated (a new key would give a verbatim replay a new id: a second order).
   */
  public readonly orderIdKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ClientSecretsProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Order pipeline client secrets',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    const generated = (id: string, clientId: string) =>
      new secretsmanager.Secret(this, id, {
        description: `Generated signing secret of ${clientId}`,
        encryptionKey: this.key,
        removalPolicy: props.removalPolicy,
        generateSecretString: { excludePunctuation: true, passwordLength: 48 },
      });
    this.orderIdKey = new secretsmanager.Secret(this, 'OrderIdKey', {
      description: 'Key of the order ids the publisher derives for bodies without one (never rotate)',
      encryptionKey: this.key,
      removalPolicy: props.removalPolicy,
      generateSecretString: { excludePunctuation: true, passwordLength: 64 },
    });
    // The smoke client exists from the first deploy on, so the post-deploy test right after it can sign.
    this.smokeClientSecret = generated('SmokeClientSecret', SMOKE_CLIENT_ID);
    const clients: [string, secretsmanager.Secret][] = [[SMOKE_CLIENT_ID, this.smokeClientSecret]];
    if (props.generateDemoClient ?? true) {
      this.demoClientSeed = generated('DemoClientSeed', DEMO_CLIENT_ID);
      clients.unshift([DEMO_CLIENT_ID, this.demoClientSeed]);
    }
    // {"clients":{"<id>":["<secret>"],...}} with each value a dynamic reference, never the secret itself.
    const document = Fn.join('', [
      '{"clients":{',
      ...clients.flatMap(([clientId, seed], i) => [
        `${i > 0 ? ',' : ''}"${clientId}":["`,
        seed.secretValue.unsafeUnwrap(),
        '"]',
      ]),
      '}}',
    ]);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'HMAC signing secrets per client: {"clients":{"<client id>":["<secret>",...]}}',
      encryptionKey: this.key,
      removalPolicy: props.removalPolicy,
      secretStringValue: SecretValue.unsafePlainText(document),
    });
  }
}
