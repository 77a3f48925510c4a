import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** Output and invocations of one function during a run. */
export interface FunctionUsage {
  invocations: number;
  /** Bytes the handler wrote (stdout + stderr): its log lines and EMF metrics. */
  logBytes: number;
  /** Lines written; Lambda ships each as a log event. */
  logLines: number;
  /**
   * Bytes and lines by the line's Powertools level; `METRICS` for EMF lines and `OTHER` for
   * anything else, both written whatever the level.
   */
  byLevel: Record<string, { bytes: number; lines: number }>;
}

/** `usage` minus `before`, divided by `per` (a delta per read, per order...). */
export function usageDelta(
  usage: FunctionUsage,
  before: FunctionUsage | undefined,
  per: number,
): FunctionUsage {
  const base = before ?? { invocations: 0, logBytes: 0, logLines: 0, byLevel: {} };
  const round = (n: number) => Number(n.toFixed(4));
  return {
    invocations: round((usage.invocations - base.invocations) / per),
    logBytes: round((usage.logBytes - base.logBytes) / per),
    logLines: round((usage.logLines - base.logLines) / per),
    byLevel: Object.fromEntries(
      Object.entries(usage.byLevel).map(([level, figures]) => [
        level,
        {
          bytes: round((figures.bytes - (base.byLevel[level]?.bytes ?? 0)) / per),
          lines: round((figures.lines - (base.byLevel[level]?.lines ?? 0)) / per),
        },
      ]),
    ),
  };
}

/** Powertools levels, lowest first. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** Bytes and lines a function writes at `level`, from what it wrote at a lower one. */
export function outputAtLevel(usage: FunctionUsage, level: string): { bytes: number; lines: number } {
  const floor = LOG_LEVELS.indexOf(level as (typeof LOG_LEVELS)[number]);
  if (floor < 0) throw new Error(`unknown log level ${level}`);
  return Object.entries(usage.byLevel).reduce(
    (total, [lineLevel, figures]) => {
      const rank = LOG_LEVELS.indexOf(lineLevel as (typeof LOG_LEVELS)[number]);
      return rank >= 0 && rank < floor
        ? total
        : { bytes: total.bytes + figures.bytes, lines: total.lines + figures.lines };
    },
    { bytes: 0, lines: 0 },
  );
}

/** The level bucket of one output line. */
export function levelOf(line: string): string {
  if (!line.startsWith('{')) return 'OTHER';
  try {
    const document = JSON.parse(line) as { level?: unknown; _aws?: unknown };
    if (document._aws !== undefined) return 'METRICS';
    return typeof document.level === 'string' ? document.level.toUpperCase() : 'OTHER';
  } catch {
    return 'OTHER';
  }
}

/**
 * Tallies what each function writes, as Lambda ships it to CloudWatch Logs: bytes, lines, and the
 * custom metrics its EMF lines define (each namespace + dimensions + name is one metric).
 */
export class OutputTally {
  readonly usage = new Map<string, FunctionUsage>();
  readonly metrics = new Set<string>();
  private readonly partial = new Map<string, string>();

  of(entry: string): FunctionUsage {
    const found = this.usage.get(entry) ?? { invocations: 0, logBytes: 0, logLines: 0, byLevel: {} };
    this.usage.set(entry, found);
    return found;
  }

  write(entry: string, chunk: Buffer): void {
    const usage = this.of(entry);
    usage.logBytes += chunk.length;
    const lines = ((this.partial.get(entry) ?? '') + chunk.toString('utf8')).split('\n');
    this.partial.set(entry, lines.pop() ?? '');
    usage.logLines += lines.length;
    for (const line of lines) {
      const bucket = (usage.byLevel[levelOf(line)] ??= { bytes: 0, lines: 0 });
      bucket.bytes += Buffer.byteLength(line) + 1;
      bucket.lines += 1;
      for (const metric of emfMetrics(line)) this.metrics.add(metric);
    }
  }

  /** A copy of the per-function figures now. */
  snapshot(): Record<string, FunctionUsage> {
    return Object.fromEntries([...this.usage].map(([entry, usage]) => [entry, structuredClone(usage)]));
  }

  reset(): void {
    this.usage.clear();
  }
}

/**
 * The metrics an Embedded Metric Format line defines, as `namespace|dimension=value,...|name`.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export function emfMetrics(line: string): string[] {
  if (!line.includes('"_aws"')) return [];
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return [];
  }
  const directives =
    (document._aws as { CloudWatchMetrics?: unknown[] } | undefined)?.CloudWatchMetrics ?? [];
  return directives.flatMap((directive) => {
    const {
      Namespace,
      Dimensions = [],
      Metrics = [],
    } = directive as {
      Namespace: string;
      Dimensions?: string[][];
      Metrics?: Array<{ Name: string }>;
    };
    const sets = Dimensions.length === 0 ? [[]] : Dimensions;
    return sets.flatMap((set) => {
      const dimensions = set.map((name) => `${name}=${String(document[name])}`).join(',');
      return Metrics.map((metric) => `${Namespace}|${dimensions}|${metric.Name}`);
    });
  });
}

/**
 * An item's size as DynamoDB bills it: attribute names plus values (strings and binaries by
 * length, numbers ~1 byte per 2 significant digits + 1, 3 bytes + 1 per element for lists and maps).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function itemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce(
    (total, [name, value]) => total + Buffer.byteLength(name) + valueBytes(value),
    0,
  );
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/[-.]/g, '').replace(/^0+/, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((n, element) => n + 1 + valueBytes(element), 0);
  if (value.M !== undefined) return 3 + itemBytes(value.M) + Object.keys(value.M).length;
  if (value.SS !== undefined) return value.SS.reduce((n, element) => n + Buffer.byteLength(element), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, element) => n + valueBytes({ N: element }), 0);
  return 0;
}
