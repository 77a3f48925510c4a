/**
 * Imported first by handler tests: the environment a deployed function gets, set before the
 * handler module reads it at "cold start" (module load).
 */
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_SERVICE_NAME = 'test';
process.env.AWS_REGION = 'eu-west-1';
process.env.ORDERS_TABLE_NAME = 'orders-table';
process.env.BILLING_TABLE_NAME = 'billing-table';
process.env.FAILED_ORDERS_TABLE_NAME = 'failed-orders-table';
process.env.ARCHIVE_BUCKET_NAME = 'archive-bucket';
process.env.STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:orders';
process.env.CLIENT_SECRETS_ID = 'client-secrets';
process.env.ORDER_ID_KEY_SECRET_ID = 'order-id-key';
process.env.RESTART_AFTER_SECONDS = '15';
process.env.ORDER_TOTAL_LIMIT = '100000';
process.env.MARKET_CURRENCIES = '{"us":["USD"],"eu":["EUR"]}';
process.env.FAILURE_INJECTION_RATE = '0';

export {};
