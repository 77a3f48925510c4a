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
 * token exists anywhere; pull requests from forks wait for a maintainer's approval comment
 * because the build runs the proposed code.
 */
export class PullRequestCheck extends Construct {
  public readonly project: codebuild.Project;

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
      RequiresCommentApproval: 'FORK_PULL_REQUESTS',
      ApproverRoles: ['GITHUB_WRITE', 'GITHUB_MAINTAIN', 'GITHUB_ADMIN'],
    });
    this.project.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UseRepositoryConnection',
        actions: [`${connectionService}:GetConnectionToken`, `${connectionService}:GetConnection`],
        resources: [props.connectionArn],
      }),
    );
  }
}
