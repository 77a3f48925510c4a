/** The one conditional "create" of the handlers: write an item unless its key exists already. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DependencyUnavailableError } from './errors';

/**
 * Puts `item` with `attribute_not_exists(<keyAttribute>)`. Returns false when the item exists
 * (a redelivery or replay already wrote it, which callers treat as success), true when written.
 * @throws DependencyUnavailableError naming `what` for any other failure
 */
export async function putIfAbsent(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  keyAttribute: string,
  what: string,
): Promise<boolean> {
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: `attribute_not_exists(${keyAttribute})`,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw new DependencyUnavailableError(what, { cause: error });
  }
}
