/**
 * The arithmetic part of CloudWatch metric math
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html):
 * `+ - * /`, parentheses, numbers, metric ids, FILL(id, value), and MAX / MIN / SUM / AVG of an
 * array of series (`MAX([m1, m2])`), which per period combine the series that have a value. It is evaluated one period at
 * a time: an id without a datapoint in the period is missing, and arithmetic on a missing value
 * is missing (there is no datapoint at that timestamp), unless FILL gives it a value.
 */

/** Raised for an expression the local evaluator does not implement. */
export class UnsupportedExpressionError extends Error {
  override readonly name = 'UnsupportedExpressionError';
}

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'id'; id: string }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/'; left: Node; right: Node }
  | { kind: 'negate'; operand: Node }
  | { kind: 'fill'; operand: Node; value: Node }
  | { kind: 'aggregate'; fn: 'MAX' | 'MIN' | 'SUM' | 'AVG'; operands: Node[] };

const AGGREGATES = ['MAX', 'MIN', 'SUM', 'AVG'] as const;

const TOKEN = /\s*(\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[-+*/(),[\]])/y;

/** Parses `expression`; throws UnsupportedExpressionError for what it does not implement. */
export function parseExpression(expression: string): Node {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let match: RegExpExecArray | null;
  while (TOKEN.lastIndex < expression.length && (match = TOKEN.exec(expression))) tokens.push(match[1] ?? '');
  if (expression.slice(TOKEN.lastIndex).trim() !== '')
    throw new UnsupportedExpressionError(`cannot read "${expression}" at ${TOKEN.lastIndex}`);
  let position = 0;
  const peek = () => tokens[position];
  const take = (expected?: string) => {
    const token = tokens[position++];
    if (token === undefined || (expected !== undefined && token !== expected))
      throw new UnsupportedExpressionError(
        `"${expression}": expected ${expected ?? 'more'}, got ${token ?? 'the end'}`,
      );
    return token;
  };
  const primary = (): Node => {
    const token = take();
    if (token === '(') {
      const inner = sum();
      take(')');
      return inner;
    }
    if (token === '-') return { kind: 'negate', operand: primary() };
    if (/^\d/.test(token)) return { kind: 'number', value: Number(token) };
    if (peek() === '(') {
      const name = token.toUpperCase();
      const aggregate = AGGREGATES.find((candidate) => candidate === name);
      if (aggregate) {
        // MAX([m1, m2]) over several series, or MAX(m1) over one: per period, of what is present.
        take('(');
        const operands: Node[] = [];
        if (peek() === '[') {
          take('[');
          operands.push(sum());
          while (peek() === ',') {
            take(',');
            operands.push(sum());
          }
          take(']');
        } else operands.push(sum());
        take(')');
        return { kind: 'aggregate', fn: aggregate, operands };
      }
      if (name !== 'FILL')
        throw new UnsupportedExpressionError(`"${expression}": function ${token} is not evaluated locally`);
      take('(');
      const operand = sum();
      take(',');
      const value = sum();
      take(')');
      return { kind: 'fill', operand, value };
    }
    return { kind: 'id', id: token };
  };
  const product = (): Node => {
    let node = primary();
    while (peek() === '*' || peek() === '/')
      node = { kind: 'binary', op: take() as '*' | '/', left: node, right: primary() };
    return node;
  };
  const sum = (): Node => {
    let node = product();
    while (peek() === '+' || peek() === '-')
      node = { kind: 'binary', op: take() as '+' | '-', left: node, right: product() };
    return node;
  };
  const root = sum();
  if (position !== tokens.length)
    throw new UnsupportedExpressionError(`"${expression}": unexpected ${peek()}`);
  return root;
}

/** Evaluates a parsed expression for one period; `value(id)` is undefined when the id is missing. */
export function evaluateExpression(
  node: Node,
  value: (id: string) => number | undefined,
): number | undefined {
  switch (node.kind) {
    case 'number':
      return node.value;
    case 'id':
      return value(node.id);
    case 'negate': {
      const operand = evaluateExpression(node.operand, value);
      return operand === undefined ? undefined : -operand;
    }
    case 'fill':
      return evaluateExpression(node.operand, value) ?? evaluateExpression(node.value, value);
    case 'aggregate': {
      const present = node.operands
        .map((operand) => evaluateExpression(operand, value))
        .filter((item): item is number => item !== undefined);
      if (present.length === 0) return undefined;
      const total = present.reduce((sum, item) => sum + item, 0);
      return {
        MAX: Math.max(...present),
        MIN: Math.min(...present),
        SUM: total,
        AVG: total / present.length,
      }[node.fn];
    }
    case 'binary': {
      const left = evaluateExpression(node.left, value);
      const right = evaluateExpression(node.right, value);
      if (left === undefined || right === undefined) return undefined;
      switch (node.op) {
        case '+':
          return left + right;
        case '-':
          return left - right;
        case '*':
          return left * right;
        case '/':
          return right === 0 ? undefined : left / right;
      }
    }
  }
}

/** The metric ids an expression reads. */
export function expressionIds(node: Node): string[] {
  switch (node.kind) {
    case 'number':
      return [];
    case 'id':
      return [node.id];
    case 'negate':
      return expressionIds(node.operand);
    case 'fill':
      return [...expressionIds(node.operand), ...expressionIds(node.value)];
    case 'aggregate':
      return node.operands.flatMap(expressionIds);
    case 'binary':
      return [...expressionIds(node.left), ...expressionIds(node.right)];
  }
}
