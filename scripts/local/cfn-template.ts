/**
 * Reads synthesized CloudFormation templates the way the local stack needs them: resources by
 * type, and intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::ImportValue, ...)
 * resolved against the physical names the local stack gave each resource.
 */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  Conditions?: Record<string, unknown>;
  Parameters?: Record<string, { Default?: unknown }>;
}

/** A resource of one stack, with its stack and logical id. */
export interface ResourceRef {
  stack: string;
  logicalId: string;
  resource: CfnResource;
}

/** What a resource is called locally: the value of `Ref` and of each `Fn::GetAtt` attribute. */
export interface PhysicalResource {
  ref: string;
  attributes: Record<string, string>;
}

/** Raised when a template uses something the local stack cannot resolve. */
export class TemplateResolutionError extends Error {
  override readonly name = 'TemplateResolutionError';
}

const NO_VALUE = Symbol('AWS::NoValue');

/** Resolves intrinsics across a set of stacks (a Stage's templates). */
export class TemplateSet {
  private readonly physical = new Map<string, PhysicalResource>();

  constructor(
    readonly templates: Record<string, CfnTemplate>,
    private readonly pseudo: { region: string; accountId: string },
  ) {}

  /** Every resource of the given CloudFormation type, across all stacks. */
  resourcesOfType(type: string): ResourceRef[] {
    const found: ResourceRef[] = [];
    for (const [stack, template] of Object.entries(this.templates)) {
      for (const [logicalId, resource] of Object.entries(template.Resources)) {
        if (resource.Type === type && this.conditionHolds(stack, resource.Condition)) {
          found.push({ stack, logicalId, resource });
        }
      }
    }
    return found;
  }

  /** Records the local physical identity of a resource, so that Ref and GetAtt resolve to it. */
  register(stack: string, logicalId: string, physical: PhysicalResource): void {
    this.physical.set(key(stack, logicalId), physical);
  }

  physicalOf(stack: string, logicalId: string): PhysicalResource | undefined {
    return this.physical.get(key(stack, logicalId));
  }

  /** Resolves every intrinsic function inside `value`, as CloudFormation would for `stack`. */
  resolve(stack: string, value: unknown): unknown {
    const resolved = this.resolveValue(stack, value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Resolves `value` and insists on a string. */
  resolveString(stack: string, value: unknown): string {
    const resolved = this.resolve(stack, value);
    if (typeof resolved !== 'string') {
      throw new TemplateResolutionError(
        `expected a string in stack ${stack}, got ${JSON.stringify(resolved)}`,
      );
    }
    return resolved;
  }

  private resolveValue(stack: string, value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((item) => this.resolveValue(stack, item)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      return this.intrinsic(stack, first[0], first[1]);
    }
    const out: Record<string, unknown> = {};
    for (const [name, item] of entries) {
      const resolved = this.resolveValue(stack, item);
      if (resolved !== NO_VALUE) out[name] = resolved;
    }
    return out;
  }

  private intrinsic(stack: string, fn: string, arg: unknown): unknown {
    switch (fn) {
      case 'Ref':
        return this.ref(stack, String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
        return this.getAtt(stack, logicalId ?? '', attribute ?? '');
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        const resolved = this.resolveValue(stack, parts) as unknown[];
        return resolved.map((part) => String(part)).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = this.resolveValue(stack, list) as unknown[];
        return items[Number(this.resolveValue(stack, index))];
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return String(this.resolveValue(stack, source)).split(separator);
      }
      case 'Fn::Sub':
        return this.sub(stack, arg);
      case 'Fn::ImportValue':
        return this.importValue(String(this.resolveValue(stack, arg)));
      case 'Fn::GetAZs':
        return [`${this.pseudo.region}a`, `${this.pseudo.region}b`, `${this.pseudo.region}c`];
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        return this.resolveValue(stack, this.conditionHolds(stack, condition) ? whenTrue : whenFalse);
      }
      case 'Fn::Base64':
        return Buffer.from(String(this.resolveValue(stack, arg))).toString('base64');
      default:
        throw new TemplateResolutionError(`unsupported intrinsic ${fn} in stack ${stack}`);
    }
  }

  private ref(stack: string, name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.pseudo.region;
      case 'AWS::AccountId':
        return this.pseudo.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.pseudo.region}:${this.pseudo.accountId}:stack/${stack}/local`;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = this.templates[stack]?.Parameters?.[name];
    if (parameter) return parameter.Default ?? '';
    return this.physicalOrPlaceholder(stack, name).ref;
  }

  private getAtt(stack: string, logicalId: string, attribute: string): string {
    const physical = this.physicalOrPlaceholder(stack, logicalId);
    return physical.attributes[attribute] ?? `${physical.ref}/${attribute}`;
  }

  /**
   * Resources the local stack does not create (roles, log groups, security groups, ...) still
   * get a stable placeholder identity, so templates that mention them resolve.
   */
  private physicalOrPlaceholder(stack: string, logicalId: string): PhysicalResource {
    const known = this.physical.get(key(stack, logicalId));
    if (known) return known;
    if (!this.templates[stack]?.Resources[logicalId]) {
      throw new TemplateResolutionError(`unknown resource ${logicalId} in stack ${stack}`);
    }
    const ref = `local-${stack}-${logicalId}`;
    return {
      ref,
      attributes: { Arn: `arn:aws:local:${this.pseudo.region}:${this.pseudo.accountId}:${ref}` },
    };
  }

  private sub(stack: string, arg: unknown): string {
    const [text, variables] = Array.isArray(arg)
      ? (arg as [string, Record<string, unknown>])
      : [String(arg), {}];
    return text.replace(/\$\{([^}!]+)\}/g, (_match, name: string) => {
      if (name in variables) return String(this.resolveValue(stack, variables[name]));
      const [logicalId, attribute] = name.split('.');
      if (attribute !== undefined && logicalId) return this.getAtt(stack, logicalId, attribute);
      return String(this.ref(stack, name));
    });
  }

  private importValue(exportName: string): unknown {
    for (const [stack, template] of Object.entries(this.templates)) {
      for (const output of Object.values(template.Outputs ?? {})) {
        if (output.Export && this.resolveValue(stack, output.Export.Name) === exportName) {
          return this.resolveValue(stack, output.Value);
        }
      }
    }
    throw new TemplateResolutionError(`no stack exports ${exportName}`);
  }

  private conditionHolds(stack: string, condition: string | undefined): boolean {
    if (condition === undefined) return true;
    const expression = this.templates[stack]?.Conditions?.[condition];
    if (expression === undefined) throw new TemplateResolutionError(`unknown condition ${condition}`);
    return this.evaluateCondition(stack, expression);
  }

  private evaluateCondition(stack: string, expression: unknown): boolean {
    const [[fn, arg] = []] = Object.entries(expression as Record<string, unknown>);
    const args = arg as unknown[];
    switch (fn) {
      case 'Fn::Equals':
        return (
          JSON.stringify(this.resolveValue(stack, args[0])) ===
          JSON.stringify(this.resolveValue(stack, args[1]))
        );
      case 'Fn::Not':
        return !this.evaluateCondition(stack, args[0]);
      case 'Fn::And':
        return args.every((item) => this.evaluateCondition(stack, item));
      case 'Fn::Or':
        return args.some((item) => this.evaluateCondition(stack, item));
      case 'Condition':
        return this.conditionHolds(stack, String(arg));
      default:
        throw new TemplateResolutionError(`unsupported condition ${String(fn)}`);
    }
  }
}

function key(stack: string, logicalId: string): string {
  return `${stack}/${logicalId}`;
}
