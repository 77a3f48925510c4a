import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUILDSPEC_FILE } from './build-spec';

/** Pull-request events that run the check: opened, new commits pushed, reopened. */
export const PULL_REQUEST_EVENTS = [
  codebuild.EventAction.PULL_REQUEST_CREATED,
  codebuild.EventAction.PULL_REQUEST_UPDATED,
  codebuild.EventAction.PULL_REQUEST_REOPENED,
];

export interface PullRequestCheckProps {
  /** The GitHub repository. */
  readonly repository: { readonly owner: string; readonly name: string };
  /** The CodeConnections connection CodeBuild authenticates to GitHub with (no token in code). */
  readonly connectionArn: string;
  /** Pull requests into these branches are checked. */
  readonly baseBranches: readonly string[];
  readonly buildEnvironment: codebuild.BuildEnvironment;
}

/** Anchored regular expression matching exactly one branch ref (webhook filters are regexes). */
export function exactBranchRef(branch: string): string {
  return `^refs/heads/${branch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

/**
 * A CodeBuild project that runs `buildspec.yml` from the pull request's head for every pull
 * request into the base branches and reports the result as a GitHub commit status. It reaches
 * GitHub through the CodeConnections connection (project source auth), so no personal access
 * token exists anywhere.
 *
 * The build runs the proposed code with the project's service role, and CodeBuild requires that
 * role to hold `GetConnectionToken` for CODECONNECTIONS source auth (it fetches the source and
 * creates the webhook with it, https://docs.aws.amazon.com/codebuild/latest/userguide/connections-github-app.html);
 * CodeBuild has no separate source role, so the grant cannot be kept from the build. What keeps
 * unreviewed code away from it: every pull request, not only those from forks, waits for an
 * approval comment by someone with write access before it builds.
 */
export class PullRequestCheck extends Construct {
  public readonly project: codebuild.Project;
  /** The connection grant the project is created after. */
  public readonly connectionPolicy: iam.Policy;

  constructor(scope: Construct, id: string, props: PullRequestCheckProps) {
    super(scope, id);
    const connectionService = props.connectionArn.split(':')[2];
    if (connectionService !== 'codeconnections' && connectionService !== 'codestar-connections') {
      throw new Error(`${props.connectionArn} is not a CodeConnections connection ARN`);
    }

    const source = codebuild.Source.gitHub({
      owner: props.repository.owner,
      repo: props.repository.name,
      webhook: true,
      reportBuildStatus: true,
      webhookFilters: props.baseBranches.map((branch) =>
        codebuild.FilterGroup.inEventOf(...PULL_REQUEST_EVENTS).andBaseRefIs(exactBranchRef(branch)),
      ),
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.project = new codebuild.Project(this, 'Project', {
      description: `Runs ${BUILDSPEC_FILE} on pull requests into ${props.baseBranches.join(', ')}`,
      source,
      buildSpec: codebuild.BuildSpec.fromSourceFilename(BUILDSPEC_FILE),
      environment: props.buildEnvironment,
      encryptionKey: new kms.Key(this, 'Key', {
        description: 'Pull-request check build output',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      logging: { cloudWatch: { logGroup } },
      timeout: Duration.minutes(60),
    });

    const project = this.project.node.defaultChild as codebuild.CfnProject;
    // The L2 GitHub source only knows account-wide token credentials; a project-level
    // CODECONNECTIONS auth uses the connection's GitHub App instead.
    project.addPropertyOverride('Source.Auth', { Type: 'CODECONNECTIONS', Resource: props.connectionArn });
    project.addPropertyOverride('Triggers.PullRequestBuildPolicy', {
      RequiresCommentApproval: 'ALL_PULL_REQUESTS',
      ApproverRoles: ['GITHUB_WRITE', 'GITHUB_MAINTAIN', 'GITHUB_ADMIN'],
    });
    // CloudFormation creates the webhook with the project, and creating it needs the connection
    // already. The role's default policy refers to the project (its log and report groups), so the
    // project cannot wait for it; the connection grant lives in a policy of its own that it waits for.
    this.connectionPolicy = new iam.Policy(this, 'ConnectionPolicy', {
      roles: [this.project.role!],
      statements: [
        new iam.PolicyStatement({
          sid: 'UseRepositoryConnection',
          actions: [`${connectionService}:GetConnectionToken`, `${connectionService}:GetConnection`],
          resources: [props.connectionArn],
        }),
      ],
    });
    // On the CfnProject only: the project construct also holds the role the policy attaches to.
    project.node.addDependency(this.connectionPolicy);
  }
}
