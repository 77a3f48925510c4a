import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

/** DynamoDB item actions this app uses. */
export type ItemAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem';

/**
 * Grants exact item actions on one table, and what its customer-managed key needs for them:
 * kms:Decrypt for reads, plus kms:Encrypt and kms:GenerateDataKey for writes. CDK's own
 * `grantReadWriteData` would add batch/scan actions and `kms:GenerateDataKey*` wildcards.
 */
export function grantItemActions(
  grantee: iam.IGrantable,
  table: dynamodb.ITable,
  actions: readonly ItemAction[],
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: actions.map((action) => `dynamodb:${action}`),
      resources: [table.tableArn],
    }),
  );
  if (table.encryptionKey) {
    const writes = actions.some((action) => action !== 'GetItem');
    grantKey(grantee, table.encryptionKey, writes ? ['Decrypt', 'Encrypt', 'GenerateDataKey'] : ['Decrypt']);
  }
}

/**
 * Grants exact KMS actions on one key; with `viaService` (e.g. `secretsmanager.<region>.amazonaws.com`)
 * only for requests that service makes on the grantee's behalf.
 */
export function grantKey(
  grantee: iam.IGrantable,
  key: kms.IKey,
  actions: readonly ('Decrypt' | 'Encrypt' | 'GenerateDataKey')[],
  viaService?: string,
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: actions.map((action) => `kms:${action}`),
      resources: [key.keyArn],
      ...(viaService ? { conditions: { StringEquals: { 'kms:ViaService': viaService } } } : {}),
    }),
  );
}
