/**
 * Typed errors shared by the handlers. Callers map them with `instanceof`, never by message.
 */

/** A required environment variable is missing or invalid; thrown at cold start. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Environment variable ${variable} ${problem}`);
  }
}

/** An AWS service the function depends on failed or answered unexpectedly. */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
  constructor(
    readonly dependency: string,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} is unavailable`, options);
  }
}

/** Base class of every request the publisher refuses with a 4xx answer. */
export abstract class RequestRejectedError extends Error {}

/** The request's content type is not `application/json` (415). */
export class UnsupportedMediaTypeError extends RequestRejectedError {
  override readonly name = 'UnsupportedMediaTypeError';
  constructor(readonly contentType: string | undefined) {
    super(`unsupported content type ${contentType ?? '(none)'}`);
  }
}

/** The request body exceeds the contract's size limit (413). */
export class PayloadTooLargeError extends RequestRejectedError {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`body of ${size} bytes exceeds ${limit} bytes`);
  }
}

/** The request's signature did not verify (401). `reason` is for the log only. */
export class UnauthorizedError extends RequestRejectedError {
  override readonly name = 'UnauthorizedError';
  constructor(
    readonly reason: string,
    readonly clientId?: string,
  ) {
    super(`unauthorized: ${reason}`);
  }
}

/** One structural problem of a request body, as answered in `details`. */
export interface ValidationDetail {
  path: string;
  message: string;
}

/**
 * The body is not JSON or breaks the order schema (400).
 * `details` is what the answer lists (capped), `detailCount` how many problems there were.
 */
export class InvalidRequestError extends RequestRejectedError {
  override readonly name = 'InvalidRequestError';
  constructor(
    readonly details: readonly ValidationDetail[],
    readonly detailCount: number = details.length,
  ) {
    super(`invalid request: ${detailCount} problem(s)`);
  }
}

/**
 * The request has a query string, which the signature does not cover (400 without details,
 * CONTRACT.md v1.1).
 */
export class QueryStringRefusedError extends RequestRejectedError {
  override readonly name = 'QueryStringRefusedError';
  constructor(readonly parameterCount: number) {
    super(`query string with ${parameterCount} parameter(s) refused`);
  }
}

/** The order id is taken by another body or another client (409). */
export class ConflictError extends RequestRejectedError {
  override readonly name = 'ConflictError';
  constructor(readonly orderId: string) {
    super(`order ${orderId} exists with another body or owner`);
  }
}

/** Unknown path, unknown order, or another client's order (404). */
export class NotFoundError extends RequestRejectedError {
  override readonly name = 'NotFoundError';
  constructor(what: string) {
    super(`${what} not found`);
  }
}

/** Known path, wrong method (405). */
export class MethodNotAllowedError extends RequestRejectedError {
  override readonly name = 'MethodNotAllowedError';
  constructor(readonly allowed: readonly string[]) {
    super(`method not allowed; allowed: ${allowed.join(', ')}`);
  }
}

/** A consumer failed a record on purpose (FAILURE_INJECTION_RATE) to exercise the DLQ path. */
export class InjectedFailureError extends Error {
  override readonly name = 'InjectedFailureError';
  constructor(readonly rate: number) {
    super(`injected failure (rate ${rate})`);
  }
}

/** A queue message is not the OrderPlaced event the consumer expects. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
  constructor(readonly problem: string) {
    super(`malformed event: ${problem}`);
  }
}

/** The workflow handed a task an input it cannot work with. */
export class InvalidWorkflowInputError extends Error {
  override readonly name = 'InvalidWorkflowInputError';
  constructor(problem: string) {
    super(`invalid workflow input: ${problem}`);
  }
}

/**
 * A consumer's event does not agree with the stored order (another body under the same key, or no
 * order at all): an error to investigate, never "already done". The record fails and finally
 * dead-letters, so the failed-orders table shows it.
 */
export class OrderMismatchError extends Error {
  override readonly name = 'OrderMismatchError';
  constructor(
    readonly orderKey: string,
    readonly problem: string,
  ) {
    super(`order ${orderKey}: ${problem}`);
  }
}
