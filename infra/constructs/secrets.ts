import { Fn, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The client id a non-prod environment's generated secret holds. */
export const DEMO_CLIENT_ID = 'demo-client';

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

  constructor(scope: Construct, id: string, props: ClientSecretsProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Order pipeline client secrets',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    let document = JSON.stringify({ clients: {} });
    if (props.generateDemoClient ?? true) {
      this.demoClientSeed = new secretsmanager.Secret(this, 'DemoClientSeed', {
        description: `Generated signing secret of ${DEMO_CLIENT_ID}`,
        encryptionKey: this.key,
        removalPolicy: props.removalPolicy,
        generateSecretString: { excludePunctuation: true, passwordLength: 48 },
      });
      document = Fn.join('', [
        `{"clients":{"${DEMO_CLIENT_ID}":["`,
        this.demoClientSeed.secretValue.unsafeUnwrap(),
        '"]}}',
      ]);
    }
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'HMAC signing secrets per client: {"clients":{"<client id>":["<secret>",...]}}',
      encryptionKey: this.key,
      removalPolicy: props.removalPolicy,
      secretStringValue: SecretValue.unsafePlainText(document),
    });
  }
}
