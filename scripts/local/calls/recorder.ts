import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../aws-config';
import type { TemplateSet } from '../cfn-template';
import { alarmNotificationCalls, derivedCalls } from './derived-calls';
import { portableNames } from './portable';
import { principalName, principalOfAccessKey, type Principal } from './principals';
import { authorizedActions, signatureScope, UnknownRequestError, type RawRequest } from './request-parser';

/**
 * One AWS authorization the pipeline needed, in portable form: resource and context values are
 * `Fn::Sub` strings over the template's logical ids (`${DataOrdersTable3939A33D.Arn}`,
 * `${AWS::AccountId}`), so that each environment's names, account and region can be put in. A
 * `${InvokeTarget:<function logical id>}` names what callers invoke: the live alias where the
 * environment has one, the function otherwise.
 */
export interface RecordedCall {
  principal: Principal;
  action: string;
  resource: string;
  /** Condition keys of the request (aws:SourceArn, s3:if-none-match, kms:ViaService, ...). */
  context: Record<string, string>;
  /** Made by a handler inside the VPC (so through a VPC endpoint). */
  inVpc: boolean;
  /** For calls AWS makes on a caller's behalf (KMS, SNS delivery): the call that caused it. */
  cause?: string;
  /** Times seen. */
  count: number;
  scenarios: string[];
}

/** What a recording run saves for `npm run verify:iam`. */
export interface Recording {
  version: 1;
  recordedAt: string;
  scenarios: string[];
  calls: RecordedCall[];
  /** Requests of a known principal the parser could not authorize: each one is a gap. */
  unparsed: Array<{ principal: string; request: string; error: string }>;
}

/** A call as it happened locally (local names), before it is made portable. */
export interface LocalCall {
  principal: Principal;
  action: string;
  resource: string;
  context?: Record<string, string>;
  /** Resource and context already use portable tokens (in-process callers that know logical ids). */
  portable?: boolean;
}

/** Alarm notifications are modelled from the template (the local stack evaluates no alarm). */
export const ALARM_SCENARIO = 'alarm notifications (modelled: every alarm of the template)';

interface Held extends LocalCall {
  scenario: string;
}

/**
 * Records every AWS request the local stack makes, with the principal that would make it on AWS:
 * an HTTP proxy in front of each endpoint (moto, the local Step Functions) attributes signed
 * requests by their access key id (see ./principals), and the in-process callers (the load
 * balancer, the state machine's Lambda tasks) call {@link record} directly. {@link recording}
 * adds what AWS does on the callers' behalf: KMS calls for customer-managed keys, SNS delivering
 * to subscribed queues, CloudWatch publishing alarm notifications.
 */
export class CallRecorder {
  private readonly calls: Held[] = [];
  private readonly unparsed: Recording['unparsed'] = [];
  private readonly servers: Server[] = [];
  private templates: TemplateSet | undefined;
  private readonly scenarioNames: string[] = [];
  /** Name of the scenario now running; calls are tagged with it. */
  scenario = 'startup';

  /** Starts a scenario: later calls are tagged with `name`. */
  startScenario(name: string): void {
    this.scenario = name;
    if (!this.scenarioNames.includes(name)) this.scenarioNames.push(name);
  }

  /** The local stack's resolved templates, to make names portable (called once it is up). */
  attach(templates: TemplateSet): void {
    this.templates = templates;
  }

  /** Records a call made in-process (no HTTP request to see). */
  record(call: LocalCall): void {
    this.calls.push({ ...call, scenario: this.scenario });
  }

  /** Puts a recording proxy in front of `endpoint`; the shape of LocalStackOptions.interceptEndpoint. */
  async intercept(endpoint: string): Promise<{ endpoint: string; close(): Promise<void> }> {
    const target = new URL(endpoint);
    const server = createServer((incoming, outgoing) => {
      void readBody(incoming).then((body) => {
        this.observe({
          method: incoming.method ?? 'GET',
          url: incoming.url ?? '/',
          headers: incoming.headers,
          body: body.toString('utf8'),
        });
        const upstream = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            method: incoming.method,
            path: incoming.url,
            headers: incoming.headers,
          },
          (response) => {
            outgoing.writeHead(response.statusCode ?? 502, response.headers);
            response.pipe(outgoing);
          },
        );
        upstream.on('error', () => outgoing.destroy());
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.servers.push(server);
    return {
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  /** The calls so far, portable, with the calls AWS makes on the callers' behalf. */
  recording(): Recording {
    const templates = this.templates;
    if (!templates) throw new Error('the recorder was never attached to the local stack templates');
    const portable = portableNames(templates, { accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
    const merged = new Map<string, RecordedCall>();
    const add = (call: Omit<RecordedCall, 'count' | 'scenarios'>, scenario: string) => {
      const key = JSON.stringify([
        principalName(call.principal),
        call.principal,
        call.action,
        call.resource,
        call.context,
        call.cause,
      ]);
      const existing = merged.get(key);
      if (existing) {
        existing.count += 1;
        if (!existing.scenarios.includes(scenario)) existing.scenarios.push(scenario);
      } else merged.set(key, { ...call, count: 1, scenarios: [scenario] });
    };
    for (const held of this.calls) {
      const call = {
        principal: held.principal,
        action: held.action,
        resource: held.portable ? held.resource : portable(held.resource),
        context: Object.fromEntries(
          Object.entries(held.context ?? {}).map(([key, value]) => [
            key,
            held.portable ? value : portable(value),
          ]),
        ),
        inVpc: held.principal.kind === 'role' && held.principal.origin === 'vpc',
      };
      add(call, held.scenario);
      for (const derived of derivedCalls(call, templates)) add(derived, held.scenario);
    }
    if (this.calls.length > 0) {
      for (const call of alarmNotificationCalls(templates)) add(call, ALARM_SCENARIO);
    }
    return {
      version: 1,
      recordedAt: new Date().toISOString(),
      scenarios: [...this.scenarioNames, ...(this.calls.length > 0 ? [ALARM_SCENARIO] : [])],
      calls: [...merged.values()],
      unparsed: [...this.unparsed],
    };
  }

  /** Writes {@link recording} to `file`. */
  async save(file: string): Promise<Recording> {
    const recording = this.recording();
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(recording, null, 1)}\n`);
    return recording;
  }

  private observe(request: RawRequest): void {
    const scope = signatureScope(request.headers);
    const principal = scope && principalOfAccessKey(scope.accessKeyId);
    // The harness's own requests (provisioning, test assertions) are not the pipeline's.
    if (!scope || !principal) return;
    try {
      for (const action of authorizedActions(request, scope, LOCAL_ACCOUNT_ID)) {
        this.calls.push({
          principal,
          action: action.action,
          resource: action.resource,
          // Every SDK client of the pipeline reaches AWS over HTTPS (the local endpoint is plain HTTP).
          context: { 'aws:SecureTransport': 'true', ...action.context },
          scenario: this.scenario,
        });
      }
    } catch (error) {
      if (!(error instanceof UnknownRequestError) && !(error instanceof SyntaxError)) throw error;
      this.unparsed.push({
        principal: principalName(principal),
        request: `${request.method} ${request.url} ${String(request.headers['x-amz-target'] ?? '')}`.trim(),
        error: error.message,
      });
    }
  }
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
