import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** moto_server with DynamoDB's per-request atomicity (see the file for why). */
const LAUNCHER = join(__dirname, 'moto_server.py');

/** Raised when `moto_server` is not installed or does not come up. */
export class EmulatorUnavailableError extends Error {
  override readonly name = 'EmulatorUnavailableError';
}

/** A running moto server on loopback. */
export interface Emulator {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install it with: pip install "moto[server]"';

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts moto's server (through {@link LAUNCHER}, which runs DynamoDB requests one at a time as
 * DynamoDB's atomicity needs) on a free loopback port and waits until it answers. The process is
 * killed with the caller (also on SIGINT/SIGTERM of the caller).
 * @param options.python the Python that has moto installed; @default $MOTO_PYTHON or python3
 */
export async function startEmulator(
  options: { python?: string; timeoutMs?: number } = {},
): Promise<Emulator> {
  const python = options.python ?? process.env.MOTO_PYTHON ?? 'python3';
  const probe = spawnSync(python, ['-c', 'import moto.server, moto.dynamodb.responses'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (probe.error) {
    throw new EmulatorUnavailableError(`${python} was not found on PATH (set MOTO_PYTHON); ${INSTALL_HINT}`);
  }
  if (probe.status !== 0) {
    throw new EmulatorUnavailableError(
      `${python} cannot import moto's server (${String(probe.stderr).trim().split('\n').pop() ?? ''}); ${INSTALL_HINT}`,
    );
  }
  const port = await freePort();
  const child = spawn(python, [LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Named, so that moto settings a caller sets (MOTO_*) reach it also from inside Jest, whose
    // process.env is a copy that child_process does not see.
    env: process.env,
    detached: false,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    await waitUntilReady(endpoint, child, options.timeoutMs ?? 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new EmulatorUnavailableError(`${(error as Error).message}\n${stderr}`);
  }
  return {
    endpoint,
    port,
    stop: () => stopProcess(child).finally(() => process.removeListener('exit', killOnExit)),
  };
}

async function waitUntilReady(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
