/**
 * The one file a deployment edits: where this app is delivered (accounts, region, repository,
 * connection) and what each deployed environment's account holds (domain names, certificates,
 * alarm email, Lambda quota). How the environments behave stays in `environments/<env>.ts`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  accountIdSchema,
  certificateMismatch,
  DEPLOYED_ENVIRONMENTS,
  domainSchema,
  gatewayPrefixListsSchema,
  KNOWN_GATEWAY_PREFIX_LISTS,
  regionSchema,
  type DeployedEnvironmentName,
} from './schema';

const REPO_ROOT = path.resolve(__dirname, '..');

/** The file a deployment edits, at the repository root (committed in the deploying fork). */
export const DELIVERY_FILE = path.join(REPO_ROOT, 'delivery.config.yaml');

/** The commented example, with placeholders; read when there is no {@link DELIVERY_FILE}. */
export const EXAMPLE_DELIVERY_FILE = path.join(REPO_ROOT, 'examples', 'delivery.config.yaml');

/** Environment variable naming another delivery file (tests point it at the example). */
export const DELIVERY_FILE_VARIABLE = 'DELIVERY_CONFIG';

export const CONNECTION_ARN =
  /^arn:aws[a-z-]*:(codeconnections|codestar-connections):([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):connection\/[0-9a-f-]{36}$/;

export const connectionArnSchema = z
  .string()
  .regex(CONNECTION_ARN, 'must be a CodeConnections connection ARN');

export const repositorySchema = z.strictObject({
  owner: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a GitHub user or organisation'),
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a GitHub repository name'),
});

/** What one deployed environment's account holds. */
const siteSchema = z.strictObject({
  account: accountIdSchema,
  /** The account's Lambda "Concurrent executions" quota in the region (L-B99A9384). */
  accountConcurrency: z.number().int().min(1),
  /** Where the environment's alarms are emailed. */
  alarmEmail: z.email('must be an email address'),
  /** The HTTPS name; required where the environment does not serve plain HTTP (staging, prod). */
  domain: domainSchema.optional(),
});

const deliveryFileSchema = z
  .strictObject({
    /** The account holding the pipelines, the connection and the pull-request check. */
    toolingAccount: accountIdSchema,
    /** Region of the pipelines, the connection and every deployed environment. */
    region: regionSchema,
    repository: repositorySchema,
    connectionArn: connectionArnSchema,
    /** The region's S3 and DynamoDB gateway prefix lists. */
    gatewayPrefixLists: gatewayPrefixListsSchema,
    environments: z.strictObject(
      Object.fromEntries(DEPLOYED_ENVIRONMENTS.map((name) => [name, siteSchema])) as Record<
        DeployedEnvironmentName,
        typeof siteSchema
      >,
    ),
  })
  .superRefine((file, ctx) => {
    const issue = (fieldPath: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path: fieldPath, message });
    const [, service, region, account] = CONNECTION_ARN.exec(file.connectionArn) ?? [];
    if (service && region !== file.region) {
      issue(
        ['connectionArn'],
        `the connection must be in the pipelines' region ${file.region}, not ${region}`,
      );
    }
    if (service && account !== file.toolingAccount) {
      issue(['connectionArn'], `the connection must belong to the tooling account ${file.toolingAccount}`);
    }
    for (const [known, lists] of Object.entries(KNOWN_GATEWAY_PREFIX_LISTS)) {
      if (known === file.region) continue;
      for (const service of ['s3', 'dynamodb'] as const) {
        if (file.gatewayPrefixLists[service] === lists[service]) {
          issue(
            ['gatewayPrefixLists', service],
            `${lists[service]} is ${known}'s list, not ${file.region}'s: aws ec2 describe-prefix-lists --region ${file.region}`,
          );
        }
      }
    }
    for (const name of DEPLOYED_ENVIRONMENTS) {
      const site = file.environments[name];
      const mismatch =
        site.domain?.certificateArn &&
        certificateMismatch(site.domain.certificateArn, { region: file.region, account: site.account });
      if (mismatch) issue(['environments', name, 'domain', 'certificateArn'], mismatch);
    }
  });

/** The validated delivery file. */
export type DeliveryFile = z.output<typeof deliveryFileSchema>;

/** What the delivery file says of one deployed environment: its account's values and the region's. */
export type EnvironmentSite = DeliveryFile['environments'][DeployedEnvironmentName] &
  Pick<DeliveryFile, 'region' | 'gatewayPrefixLists'>;

/** The delivery file's values for one deployed environment. */
export function environmentSite(file: DeliveryFile, name: DeployedEnvironmentName): EnvironmentSite {
  return { ...file.environments[name], region: file.region, gatewayPrefixLists: file.gatewayPrefixLists };
}

/** Thrown when the delivery file cannot be read or breaks its schema. */
export class InvalidDeliveryFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${displayPath(file)} is not a valid delivery config:\n  - ${problems.join('\n  - ')}`);
    this.name = 'InvalidDeliveryFileError';
  }
}

/** `file` relative to the repository root when inside it, as messages name it. */
export function displayPath(file: string): string {
  const relative = path.relative(REPO_ROOT, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/**
 * Validates the content of a delivery file.
 * @throws InvalidDeliveryFileError naming `file` and every problem with its field path.
 */
export function validateDeliveryFile(input: unknown, file: string): DeliveryFile {
  const result = deliveryFileSchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidDeliveryFileError(
    file,
    result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  );
}

/**
 * Reads and validates a delivery file (YAML).
 * @throws InvalidDeliveryFileError when it is missing, not YAML, or breaks the schema.
 */
export function readDeliveryFile(file: string): DeliveryFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidDeliveryFileError(file, [`cannot be read: ${(error as Error).message}`]);
  }
  let input: unknown;
  try {
    input = parse(text);
  } catch (error) {
    throw new InvalidDeliveryFileError(file, [`is not YAML: ${(error as Error).message}`]);
  }
  return validateDeliveryFile(input, file);
}

/**
 * The delivery file in use: `$DELIVERY_CONFIG` (relative to the working directory) when set, else
 * `delivery.config.yaml` at the repository root, else the example (whose placeholders refuse a
 * deploy). This is the one place that reads where the file is.
 */
export function deliveryFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env[DELIVERY_FILE_VARIABLE];
  if (chosen) return path.resolve(chosen);
  return fs.existsSync(DELIVERY_FILE) ? DELIVERY_FILE : EXAMPLE_DELIVERY_FILE;
}

const loaded = new Map<string, DeliveryFile>();

/** The validated delivery file of {@link deliveryFilePath}, read once per path. */
export function loadDeliveryFile(file = deliveryFilePath()): DeliveryFile {
  const cached = loaded.get(file);
  if (cached) return cached;
  const content = readDeliveryFile(file);
  loaded.set(file, content);
  return content;
}

/**
 * What counts as a placeholder: values that can never be a real deployment's, so the example
 * uses them and a deploy refuses them.
 */
export const PLACEHOLDER_RULES: readonly { readonly describes: string; readonly matches: RegExp }[] = [
  {
    describes: "an account id of one repeated digit, or AWS's documentation account 123456789012",
    matches: /^(\d)\1{11}$|^123456789012$/,
  },
  {
    describes: 'a name or address under the reserved example.com, example.net, example.org (RFC 2606)',
    matches: /(^|[.@])example\.(com|net|org)$/,
  },
  {
    describes: 'a resource id of zeros (connection and certificate UUIDs, hosted zone ids)',
    matches: /\/0{8}-0{4}-0{4}-0{4}-0{8}[0-9a-f]{4}$|^Z0{8}/,
  },
  { describes: 'the example repository owner', matches: /^example-org$/ },
];

/** A field of the delivery file that still holds a placeholder. */
export interface Placeholder {
  /** Field path, such as `environments.prod.account`. */
  readonly path: string;
  readonly value: string;
}

/** Every field of the file that holds a placeholder ({@link PLACEHOLDER_RULES}), in file order. */
export function findPlaceholders(file: DeliveryFile): Placeholder[] {
  const found: Placeholder[] = [];
  const visit = (value: unknown, at: string[]) => {
    if (typeof value === 'string') {
      if (PLACEHOLDER_RULES.some((rule) => rule.matches.test(value))) {
        found.push({ path: at.join('.'), value });
      }
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) visit(child, [...at, key]);
    }
  };
  visit(file, []);
  return found;
}

/** Top-level fields a stage deployed on its own uses (the post-deploy role trusts the tooling account). */
const STAGE_FIELDS = ['toolingAccount', 'region', 'gatewayPrefixLists'];

/**
 * The placeholders that matter to a deploy of these environments: their own fields, plus the
 * fields they share; with `pipeline`, also the repository and the connection.
 */
export function placeholdersFor(
  placeholders: readonly Placeholder[],
  scope: { readonly environments: readonly string[]; readonly pipeline: boolean },
): Placeholder[] {
  return placeholders.filter(({ path: fieldPath }) => {
    const [top, environment] = fieldPath.split('.');
    if (top === 'environments') return scope.environments.includes(environment!);
    return scope.pipeline || STAGE_FIELDS.includes(top!);
  });
}

/** `path (value)` of each placeholder, as the refusal and the preflight name them. */
export function describePlaceholders(placeholders: readonly Placeholder[]): string[] {
  return placeholders.map(({ path: fieldPath, value }) => `${fieldPath} (${value})`);
}

/** What to do about placeholders in `file`. */
export function placeholderFix(file: string): string {
  const copy =
    path.resolve(file) === EXAMPLE_DELIVERY_FILE ? `copy it to ${displayPath(DELIVERY_FILE)} and ` : '';
  return `${copy}replace them (README, Deploying)`;
}

/**
 * The one message that refuses a deploy, naming every placeholder with its value; undefined when
 * there is none.
 */
export function placeholderRefusal(file: string, placeholders: readonly Placeholder[]): string | undefined {
  if (placeholders.length === 0) return undefined;
  return `${displayPath(file)} still holds placeholders: ${describePlaceholders(placeholders).join(', ')}; ${placeholderFix(file)}`;
}
