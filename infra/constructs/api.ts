import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** Paths the publisher answers (CONTRACT.md); anything else gets the listener's 404. */
export const PUBLISHER_PATHS = ['/health', '/orders', '/orders/*'] as const;

/** Body of the listener's default answer. */
export const NOT_FOUND_BODY = JSON.stringify({ error: 'not_found' });

export interface OrderApiProps {
  readonly vpc: ec2.IVpc;
  /** The Lambda behind every known path. */
  readonly publisher: lambda.IFunction;
  /**
   * The HTTPS name: an HTTPS listener with its certificate (the given ARN, or one requested and
   * DNS-validated here), an HTTP listener that only redirects, and an alias record of the name.
   */
  readonly domain?: {
    readonly name: string;
    readonly hostedZone: { readonly id: string; readonly name: string };
    readonly certificateArn?: string;
  };
  /** Without a certificate, a plain-HTTP listener forwarding to the publisher (local/dev only). */
  readonly allowHttp: boolean;
  /** Bucket (SSE-S3) for ALB access logs. */
  readonly accessLogBucket: s3.IBucket;
  /** Whether deleting the ALB needs deletion protection turned off first (prod). */
  readonly deletionProtection: boolean;
  /** WAFv2 web ACL with rate-based rules per source IP and per client id. */
  readonly waf?: OrderApiWafProps;
}

/** The WAF's rate limits, requests per {@link RATE_LIMIT_WINDOW_SECONDS}. */
export interface OrderApiWafProps {
  /** Requests one source IP may send per window. */
  readonly rateLimitPer5Minutes: number;
  /** Requests carrying one `X-Client-Id` may send per window, from any number of IPs. */
  readonly clientRateLimitPer5Minutes: number;
}

/** The rate-based rules' evaluation window (WAF's default, and the unit of the limits). */
export const RATE_LIMIT_WINDOW_SECONDS = 300;

/** Body of the WAF's answer to a client over a rate limit (CONTRACT.md v1.1). */
export const RATE_LIMITED_BODY = JSON.stringify({ error: 'rate_limited' });

/** The header the per-client rule counts by, as CONTRACT.md names it (WAF matches names case-insensitively). */
export const CLIENT_ID_HEADER = 'x-client-id';

/**
 * Name of the publisher's target group. Lambda must allow the load balancer to invoke the
 * publisher before the target group registers it, so the permission cannot name the target
 * group's ARN (that would be a cycle); it names the ARN pattern of this fixed name instead
 * (target group names are unique per account and region, at most 32 characters).
 */
export function publisherTargetGroupName(stackName: string): string {
  const name = `${stackName}-publisher`.replace(/[^A-Za-z0-9-]/g, '-');
  if (name.length > 32) {
    throw new Error(`Target group name "${name}" is longer than the load balancer's 32 characters`);
  }
  return name;
}

/**
 * The public entry: an internet-facing ALB in the public subnets whose listener rules forward
 * `/health`, `/orders` and `/orders/*` to the publisher Lambda and answer 404 JSON otherwise.
 */
export class OrderApi extends Construct {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The listener that forwards to the publisher (HTTPS when there is a certificate). */
  public readonly listener: elbv2.ApplicationListener;
  public readonly webAcl?: wafv2.CfnWebACL;
  /** `https` or `http`, matching the forwarding listener. */
  public readonly scheme: 'https' | 'http';
  /** The name clients use: the domain with HTTPS, else the load balancer's DNS name (plain HTTP). */
  public readonly host: string;
  /** The alias record of the domain, with HTTPS. */
  public readonly record?: route53.ARecord;

  /** The URL orders are posted to. */
  public get ordersUrl(): string {
    return `${this.scheme}://${this.host}/orders`;
  }

  constructor(scope: Construct, id: string, props: OrderApiProps) {
    super(scope, id);
    if (!props.domain && !props.allowHttp) {
      throw new Error('OrderApi needs a domain or allowHttp, otherwise it has no listener');
    }
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection,
      idleTimeout: Duration.seconds(30),
    });
    this.loadBalancer.logAccessLogs(props.accessLogBucket, 'alb');

    const stack = Stack.of(this);
    const targetGroupName = publisherTargetGroupName(stack.stackName);
    // Only this account's target group of this name may invoke the publisher, so no other
    // account's load balancer can target it and bypass the WAF
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html).
    props.publisher.addPermission('InvokeByLoadBalancer', {
      principal: new iam.ServicePrincipal('elasticloadbalancing.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: stack.account,
      sourceArn: stack.formatArn({
        service: 'elasticloadbalancing',
        resource: 'targetgroup',
        resourceName: `${targetGroupName}/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    });
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'PublisherTargets', {
      targetType: elbv2.TargetType.LAMBDA,
      targetGroupName,
      targets: [
        {
          attachToApplicationTargetGroup: () => ({
            targetType: elbv2.TargetType.LAMBDA,
            targetJson: { id: props.publisher.functionArn },
          }),
        },
      ],
    });
    // Registering the target needs the permission to exist already.
    this.targetGroup.node.addDependency(props.publisher.permissionsNode.findChild('InvokeByLoadBalancer'));

    const notFound = elbv2.ListenerAction.fixedResponse(404, {
      contentType: 'application/json',
      messageBody: NOT_FOUND_BODY,
    });
    if (props.domain) {
      const { name, hostedZone, certificateArn } = props.domain;
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: hostedZone.id,
        zoneName: hostedZone.name,
      });
      const certificate = certificateArn
        ? acm.Certificate.fromCertificateArn(this, 'Certificate', certificateArn)
        : new acm.Certificate(this, 'Certificate', {
            domainName: name,
            validation: acm.CertificateValidation.fromDns(zone),
          });
      // An A alias only: the load balancer is IPv4 (an AAAA alias needs a dual-stack load balancer).
      this.record = new route53.ARecord(this, 'Record', {
        zone,
        recordName: name,
        target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.loadBalancer)),
      });
      this.scheme = 'https';
      this.host = name;
      this.listener = this.loadBalancer.addListener('Https', {
        protocol: elbv2.ApplicationProtocol.HTTPS,
        port: 443,
        certificates: [certificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultAction: notFound,
      });
      this.loadBalancer.addRedirect({
        sourceProtocol: elbv2.ApplicationProtocol.HTTP,
        sourcePort: 80,
        targetProtocol: elbv2.ApplicationProtocol.HTTPS,
        targetPort: 443,
      });
    } else {
      this.scheme = 'http';
      this.host = this.loadBalancer.loadBalancerDnsName;
      this.listener = this.loadBalancer.addListener('Http', {
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: 80,
        defaultAction: notFound,
      });
    }
    this.listener.addAction('Health', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/health'])],
      action: elbv2.ListenerAction.forward([this.targetGroup]),
    });
    this.listener.addAction('Orders', {
      priority: 20,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/orders', '/orders/*'])],
      action: elbv2.ListenerAction.forward([this.targetGroup]),
    });

    if (props.waf) {
      const visibility = (metricName: string) => ({
        cloudWatchMetricsEnabled: true,
        sampledRequestsEnabled: true,
        metricName,
      });
      // 429 with Retry-After instead of WAF's default 403: a block lasts until the rate over the
      // window falls under the limit, so the window is the longest a client has to wait.
      // https://docs.aws.amazon.com/waf/latest/developerguide/customizing-the-response-for-blocked-requests.html
      const rateLimited: wafv2.CfnWebACL.RuleActionProperty = {
        block: {
          customResponse: {
            responseCode: 429,
            customResponseBodyKey: 'rate-limited',
            responseHeaders: [
              { name: 'Retry-After', value: String(RATE_LIMIT_WINDOW_SECONDS) },
              { name: 'Cache-Control', value: 'no-store' },
            ],
          },
        },
      };
      this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
        scope: 'REGIONAL',
        defaultAction: { allow: {} },
        visibilityConfig: visibility('OrderPipelineWebAcl'),
        customResponseBodies: {
          'rate-limited': { contentType: 'APPLICATION_JSON', content: RATE_LIMITED_BODY },
        },
        rules: [
          {
            name: 'RateLimitPerSourceIp',
            priority: 0,
            action: rateLimited,
            statement: {
              rateBasedStatement: {
                limit: props.waf.rateLimitPer5Minutes,
                evaluationWindowSec: RATE_LIMIT_WINDOW_SECONDS,
                aggregateKeyType: 'IP',
              },
            },
            visibilityConfig: visibility('RateLimitPerSourceIp'),
          },
          {
            // Many clients behind one NAT share the per-IP budget; one client spread over many
            // IPs would have none. A custom key counts per header value; a request without the
            // header is not counted by this rule (only by the per-IP one).
            // https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-aggregation-options.html
            // The header is not authenticated at the WAF: someone who knows a client id can
            // spend that client's budget (README "Clients" says so).
            name: 'RateLimitPerClientId',
            priority: 1,
            action: rateLimited,
            statement: {
              rateBasedStatement: {
                limit: props.waf.clientRateLimitPer5Minutes,
                evaluationWindowSec: RATE_LIMIT_WINDOW_SECONDS,
                aggregateKeyType: 'CUSTOM_KEYS',
                customKeys: [
                  {
                    header: { name: CLIENT_ID_HEADER, textTransformations: [{ priority: 0, type: 'NONE' }] },
                  },
                ],
              },
            },
            visibilityConfig: visibility('RateLimitPerClientId'),
          },
        ],
      });
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.loadBalancer.loadBalancerArn,
        webAclArn: this.webAcl.attrArn,
      });
    }
  }
}
