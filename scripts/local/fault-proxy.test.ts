import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { FaultProxy, THROTTLING } from './fault-proxy';

/** A stand-in service: records each request and answers 200 with a JSON body. */
class Upstream {
  readonly received: Array<{ target: string | undefined; body: string }> = [];
  private server: Server | undefined;

  async listen(): Promise<{ host: string; port: number }> {
    this.server = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({
          target: request.headers['x-amz-target'] as string | undefined,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-upstream': 'yes' });
        response.end(
          JSON.stringify({ executionArn: 'arn:aws:states:us-east-1:1:execution:m:e', startDate: 1 }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return { host: '127.0.0.1', port: (this.server.address() as AddressInfo).port };
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const start = (name: string) =>
  new StartExecutionCommand({
    stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:m',
    name,
    input: '{}',
  });

describe('FaultProxy', () => {
  let upstream: Upstream;
  let proxy: FaultProxy;
  let sfn: SFNClient;
  let endpoint: string;

  beforeEach(async () => {
    upstream = new Upstream();
    proxy = new FaultProxy(await upstream.listen());
    endpoint = await proxy.listen();
    sfn = new SFNClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });

  afterEach(async () => {
    sfn.destroy();
    await proxy.close();
    await upstream.close();
  });

  it('passes requests and answers through unchanged when no fault is set', async () => {
    // Act
    const response = await fetch(`${endpoint}/some/path`, {
      method: 'POST',
      headers: {
        'x-amz-target': 'AWSStepFunctions.StartExecution',
        'content-type': 'application/x-amz-json-1.0',
      },
      body: '{"name":"e-1"}',
    });
    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('x-upstream')).toBe('yes');
    expect(await response.json()).toMatchObject({ executionArn: expect.any(String) });
    expect(upstream.received).toEqual([
      { target: 'AWSStepFunctions.StartExecution', body: '{"name":"e-1"}' },
    ]);
  });

  it('answers a throttle in the awsJson shape the SDK reads, for the next N requests of one X-Amz-Target', async () => {
    // Prepare
    const fault = proxy.inject({ action: 'StartExecution', effect: THROTTLING, times: 2 });
    // Act
    const first = await sfn.send(start('e-1')).catch((error: Error) => error);
    const second = await sfn.send(start('e-2')).catch((error: Error) => error);
    const third = await sfn.send(start('e-3'));
    // Assess
    expect(first).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    expect(second).toMatchObject({ name: 'ThrottlingException' });
    expect(third.executionArn).toBeDefined();
    expect(fault.hits).toBe(2);
    expect(upstream.received.map((request) => JSON.parse(request.body).name)).toEqual(['e-3']);
  });

  it('takes only the requests its test accepts', async () => {
    // Prepare
    proxy.inject({
      action: 'StartExecution',
      when: (request) => request.body.includes('"e-2"'),
      effect: 'refuse',
    });
    // Act
    await sfn.send(start('e-1'));
    const refused = await sfn.send(start('e-2')).catch((error: Error) => error);
    // Assess
    expect(refused).toBeInstanceOf(Error);
    expect(
      (refused as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
    ).toBeUndefined();
    expect(upstream.received.map((request) => JSON.parse(request.body).name)).toEqual(['e-1']);
  });

  it('lets a request through and loses the answer: done by the service, failed for the caller', async () => {
    // Prepare
    proxy.inject({ action: 'StartExecution', effect: 'lose-answer' });
    // Act
    const result = await sfn.send(start('e-1')).catch((error: Error) => error);
    // Assess
    expect(result).toBeInstanceOf(Error);
    expect(upstream.received).toHaveLength(1);
  });

  it('holds requests until the gate opens, and hangs them without an answer', async () => {
    // Prepare
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = proxy.inject({ action: 'StartExecution', effect: 'pass', holdUntil: gate, times: 1 });
    const hanging = proxy.inject({ action: 'DescribeExecution', effect: 'hang' });
    // Act
    const call = sfn.send(start('e-1'));
    await held.taken();
    const heldBefore = held.held;
    const receivedBefore = upstream.received.length;
    open();
    const started = await call;
    const hung = fetch(endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AWSStepFunctions.DescribeExecution' },
    });
    await hanging.taken();
    hanging.remove();
    // Assess
    expect(heldBefore).toBe(1);
    expect(receivedBefore).toBe(0);
    expect(started.executionArn).toBeDefined();
    await expect(hung).rejects.toThrow();
    expect(upstream.received).toHaveLength(1);
  });

  it('matches the Query protocol by its Action and answers its XML error shape', async () => {
    // Prepare
    const sns = new SNSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    proxy.inject({
      action: 'Publish',
      effect: { status: 400, code: 'KMSDisabled', message: 'key disabled' },
    });
    // Act
    const error = await sns
      .send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:1:t', Message: 'm' }))
      .catch((caught: Error) => caught);
    sns.destroy();
    // Assess
    expect(error).toMatchObject({ name: 'KMSDisabledException' });
    expect(upstream.received).toHaveLength(0);
  });

  it('cuts open connections and refuses new ones while interrupted, and counts both', async () => {
    // Prepare: a call leaves a kept-alive connection open.
    await sfn.send(start('e-1'));
    // Act
    proxy.interrupt(60_000);
    const cut = proxy.dropped;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const during = await sfn.send(start('e-2')).catch((error: Error) => error);
    // Assess
    expect(proxy.down).toBe(true);
    expect(cut).toBe(1);
    expect(during).toBeInstanceOf(Error);
    expect(proxy.dropped).toBe(2);
    expect(upstream.received).toHaveLength(1);
  });
});
