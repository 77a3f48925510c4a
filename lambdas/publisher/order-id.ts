import { v5 as uuidv5 } from 'uuid';

// Fixed namespace of this pipeline's derived order ids; changing it would break replays.
const ORDER_ID_NAMESPACE = '0b7c5a52-0e55-4a3b-9a55-3f5f0a1ce7e4';

/**
 * The order id of a body that has none: UUIDv5 of the client id and the body's SHA-256, so a
 * verbatim replay maps to the same order and two clients never share one.
 */
export function deriveOrderId(clientId: string, bodyHash: string): string {
  return uuidv5(`${clientId}\n${bodyHash}`, ORDER_ID_NAMESPACE);
}

const MAX_EXECUTION_NAME = 80;

/**
 * The workflow execution name of an order: deterministic, so a re-start of the same order is
 * recognisable, and within Step Functions' 80 characters of `[A-Za-z0-9-_]`. The order id (at most
 * 64 characters, already in that alphabet, unique across clients) is kept whole; the client id
 * fills the rest as a readable prefix.
 */
export function executionName(clientId: string, orderId: string): string {
  const safeOrderId = orderId.replace(/[^A-Za-z0-9_-]/g, '_');
  const prefixLength = Math.max(0, MAX_EXECUTION_NAME - safeOrderId.length - 1);
  const prefix = clientId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, prefixLength);
  return (prefix === '' ? safeOrderId : `${prefix}-${safeOrderId}`).slice(0, MAX_EXECUTION_NAME);
}
