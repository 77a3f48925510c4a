/**
 * Each handler bundled as it deploys (SDK included, minified), checking from esbuild's metafile
 * that it carries only the AWS SDK clients it calls.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { handlerBuildOptions } from '../infra/constructs/lambda-bundling';
import { HANDLER_ENTRIES } from './shared/runtime-contract';

const root = path.resolve(__dirname, '..');

const expectedClients: Record<keyof typeof HANDLER_ENTRIES, string[]> = {
  publisher: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sfn'],
  validate: [],
  billing: ['@aws-sdk/client-dynamodb'],
  archive: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-s3'],
  dlq: ['@aws-sdk/client-dynamodb'],
  reconciler: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sfn'],
};

async function bundle(entry: string) {
  const result = await build({
    ...handlerBuildOptions(path.join(root, entry)),
    absWorkingDir: root,
    metafile: true,
    write: false,
    outdir: path.join(root, 'node_modules', '.cache', 'bundles-test'),
    logLevel: 'silent',
  });
  const clients = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /node_modules\/(@aws-sdk\/client-[^/]+)\//.exec(input);
    if (match?.[1]) clients.add(match[1]);
  }
  const bytes = result.outputFiles
    .filter((file) => !file.path.endsWith('.map'))
    .reduce((sum, file) => sum + file.contents.length, 0);
  return { clients: [...clients].sort(), bytes, inputs: Object.keys(result.metafile.inputs) };
}

jest.setTimeout(120_000);

describe('handler bundles', () => {
  it.each(Object.entries(HANDLER_ENTRIES))(
    '%s contains only the SDK clients it calls',
    async (name, entry) => {
      // Act
      const { clients } = await bundle(entry);

      // Assess
      expect(clients).toEqual(expectedClients[name as keyof typeof HANDLER_ENTRIES]);
    },
  );

  it('keeps validate free of the SDK and the tracer', async () => {
    // Act
    const { inputs } = await bundle(HANDLER_ENTRIES.validate);

    // Assess
    expect(
      inputs.filter((input) => /@aws-sdk|@smithy|aws-xray-sdk|powertools\/tracer|zod/.test(input)),
    ).toEqual([]);
  });
});
