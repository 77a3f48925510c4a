import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DELIVERY_FILE_VARIABLE, EXAMPLE_DELIVERY_FILE } from '../environments/delivery-file';
import '../scripts/local/node22-polyfill';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Handler logs of the local stack go to a file, not into Jest's report; HANDLER_LOGS=1 shows them.
if (process.env.HANDLER_LOGS !== '1') {
  process.env.HANDLER_LOG_FILE ??= join(tmpdir(), 'order-pipeline-handler-logs.log');
}

// Tests synthesize from the committed example, whatever delivery.config.yaml a deployment holds.
process.env[DELIVERY_FILE_VARIABLE] = EXAMPLE_DELIVERY_FILE;
