/**
 * ALB target: adapts the event to the publisher core. SDK clients and configuration are made once
 * per cold start; a missing variable fails the cold start with its name.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { ALBEvent, ALBResult } from 'aws-lambda';
import { fromAlbEvent, jsonResponse, toAlbResult } from '../shared/alb';
import { readNonNegativeIntegerEnv, requireEnv } from '../shared/config';
import { instrumentHandler } from '../shared/powertools/instrument';
import { logger } from '../shared/powertools/logger';
import { metrics } from '../shared/powertools/metrics';
import { tracer } from '../shared/powertools/tracer';
import { ENV, SECRETS_CACHE } from '../shared/runtime-contract';
import { handleRequest, type PublisherDependencies } from './app';
import { clientSecretsFrom, CURRENT_SECRET_STAGE } from './client-secrets';
import { DynamoOrderRepository } from './order-store';
import { StepFunctionsWorkflowStarter } from '../shared/workflow-starter';

const config = {
  ordersTable: requireEnv(process.env, ENV.ordersTable),
  stateMachineArn: requireEnv(process.env, ENV.stateMachineArn),
  clientSecretsId: requireEnv(process.env, ENV.clientSecretsId),
  secretsCacheSeconds: readNonNegativeIntegerEnv(
    process.env,
    ENV.secretsCacheSeconds,
    SECRETS_CACHE.clientSecretsDefaultSeconds,
  ),
  orderIdKeySecretId: requireEnv(process.env, ENV.orderIdKeySecretId),
  restartAfterSeconds: readNonNegativeIntegerEnv(process.env, ENV.restartAfterSeconds, 15),
};

const dynamo = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const stepFunctions = tracer.captureAWSv3Client(new SFNClient({}));
// The provider behind Powertools' getSecret, given our (traced, module-scope) client.
const secrets = new SecretsProvider({
  awsSdkV3Client: tracer.captureAWSv3Client(new SecretsManagerClient({})),
});

const dependencies: PublisherDependencies = {
  clientSecrets: clientSecretsFrom(() =>
    secrets.get(config.clientSecretsId, {
      maxAge: config.secretsCacheSeconds,
      sdkOptions: { VersionStage: CURRENT_SECRET_STAGE },
    }),
  ),
  orderIdKey: async () => {
    const value = await secrets.get(config.orderIdKeySecretId, {
      maxAge: SECRETS_CACHE.orderIdKeySeconds,
      sdkOptions: { VersionStage: CURRENT_SECRET_STAGE },
    });
    if (typeof value !== 'string' || value.length < 32)
      throw new Error('the order id key is not a string of 32+ characters');
    return value;
  },
  restartAfterMs: config.restartAfterSeconds * 1000,
  orders: new DynamoOrderRepository(dynamo, config.ordersTable),
  workflow: new StepFunctionsWorkflowStarter(stepFunctions, config.stateMachineArn),
  now: () => new Date(),
  logger,
  metrics,
};

export const handler = instrumentHandler(
  async (event: ALBEvent): Promise<ALBResult> => {
    try {
      return toAlbResult(await handleRequest(fromAlbEvent(event), dependencies), event);
    } catch (error) {
      // Only a malformed event gets here; the load balancer must still get an answer.
      logger.error('could not adapt the load balancer event', error as Error);
      return toAlbResult(jsonResponse(503, { error: 'service_unavailable' }), {
        multiValueHeaders: undefined,
      });
    }
  },
  { logger, metrics, tracer },
);
