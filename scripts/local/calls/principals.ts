/**
 * Who makes an AWS request, as AWS would authorize it. The local stack gives each principal its
 * own fake access key id, so the recording proxy can tell the callers apart from the SigV4
 * `Credential=` scope of each request (moto accepts any key).
 */

/** A principal of the pipeline. */
export type Principal =
  /**
   * An IAM role of the template, by logical id. `origin` says where the call leaves from: `vpc`
   * for a handler inside the function subnets (so it needs a VPC endpoint), `service` for the
   * AWS service acting with the role (the SQS event source, the state machine's integrations).
   */
  | { kind: 'role'; role: string; origin: 'vpc' | 'service' }
  /** An AWS service principal acting under a resource policy (sns.amazonaws.com, ...). */
  | { kind: 'service'; service: string }
  /** The delivery pipeline's post-deploy role, as the stress and smoke tool use it. */
  | { kind: 'post-deploy' }
  /** A person running the operator tools under the shipped operator policy. */
  | { kind: 'operator' };

const ROLE_PREFIX = 'AKROLE';
const POST_DEPLOY = 'AKPOSTDEPLOY';
const OPERATOR = 'AKOPERATOR';

/** The fake access key id a principal signs its local requests with. */
export function accessKeyFor(principal: Principal): string {
  switch (principal.kind) {
    case 'role':
      return `${ROLE_PREFIX}${principal.origin === 'vpc' ? 'V' : 'S'}${principal.role}`;
    case 'post-deploy':
      return POST_DEPLOY;
    case 'operator':
      return OPERATOR;
    case 'service':
      throw new Error(`${principal.service} signs no request of the local stack`);
  }
}

/** The principal behind an access key id; undefined for the harness's own key (tests, provisioning). */
export function principalOfAccessKey(accessKeyId: string): Principal | undefined {
  if (accessKeyId === POST_DEPLOY) return { kind: 'post-deploy' };
  if (accessKeyId === OPERATOR) return { kind: 'operator' };
  if (accessKeyId.startsWith(ROLE_PREFIX) && accessKeyId.length > ROLE_PREFIX.length + 1) {
    const origin = accessKeyId.charAt(ROLE_PREFIX.length) === 'V' ? 'vpc' : 'service';
    return { kind: 'role', role: accessKeyId.slice(ROLE_PREFIX.length + 1), origin };
  }
  return undefined;
}

/** SDK credentials for a principal (any secret: moto checks none). */
export function credentialsFor(principal: Principal): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: accessKeyFor(principal), secretAccessKey: 'local' };
}

/** A stable name for tables and acknowledgements: `role:PublisherFunctionRole3CC8432B`, `service:sns.amazonaws.com`. */
export function principalName(principal: Principal): string {
  switch (principal.kind) {
    case 'role':
      return `role:${principal.role}`;
    case 'service':
      return `service:${principal.service}`;
    default:
      return principal.kind;
  }
}
