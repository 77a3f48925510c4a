import type { TemplateSet } from '../cfn-template';

/**
 * A function that rewrites local names into `Fn::Sub` tokens of the template: every physical
 * name and attribute the local stack registered (`Local-OrderPipeline-DataOrdersTable3939A33D` ->
 * `${DataOrdersTable3939A33D}`, its ARN -> `${DataOrdersTable3939A33D.Arn}`), then the local
 * account and region -> `${AWS::AccountId}` / `${AWS::Region}`. Longest names are replaced first,
 * so an ARN wins over the name it contains.
 */
export function portableNames(
  templates: TemplateSet,
  pseudo: { accountId: string; region: string },
): (value: string) => string {
  const replacements: Array<[string, string]> = [];
  for (const [stack, template] of Object.entries(templates.templates)) {
    for (const logicalId of Object.keys(template.Resources)) {
      const physical = templates.physicalOf(stack, logicalId);
      if (!physical) continue;
      if (physical.ref) replacements.push([physical.ref, `\${${logicalId}}`]);
      for (const [attribute, value] of Object.entries(physical.attributes)) {
        if (value && value !== physical.ref) replacements.push([value, `\${${logicalId}.${attribute}}`]);
      }
    }
  }
  replacements.sort((a, b) => b[0].length - a[0].length);
  return (value) => {
    let out = value;
    for (const [local, token] of replacements) out = out.split(local).join(token);
    return out
      .split(`:${pseudo.accountId}:`)
      .join(':${AWS::AccountId}:')
      .split(`:${pseudo.region}:`)
      .join(':${AWS::Region}:')
      .split(`.${pseudo.region}.`)
      .join('.${AWS::Region}.')
      .split(pseudo.accountId)
      .join('${AWS::AccountId}');
  };
}

/** The logical id a portable value starts with (`${X.Arn}/orders/...` -> X), if any. */
export function leadingLogicalId(value: string): string | undefined {
  return /^\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}/.exec(value)?.[1];
}
