import { createHmac } from 'node:crypto';

/**
 * The order id of a body that has none: an HMAC-SHA256, keyed with the pipeline's order-id key
 * (a Secrets Manager secret no client sees), of the client id and the body's SHA-256. A verbatim
 * replay maps to the same order; no one without the key can compute the id of a body (to claim it
 * first or to probe whether it was sent). Laid out as an RFC 9562 version-8 (custom) UUID.
 */
export function deriveOrderId(idKey: string, clientId: string, bodyHash: string): string {
  const mac = createHmac('sha256', idKey).update(`${clientId}\n${bodyHash}`).digest();
  const bytes = Buffer.from(mac.subarray(0, 16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
