import { TemplateResolutionError, TemplateSet, type CfnTemplate } from './cfn-template';

const template: CfnTemplate = {
  Resources: {
    Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    OnlyInProd: { Type: 'AWS::S3::Bucket', Condition: 'IsProd' },
  },
  Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] } },
  Parameters: { Stage: { Default: 'local' } },
  Outputs: { QueueUrl: { Value: { Ref: 'Queue' }, Export: { Name: 'Shared-QueueUrl' } } },
};

function templateSet(): TemplateSet {
  const set = new TemplateSet(
    { Main: template, Other: { Resources: { Fn: { Type: 'AWS::Lambda::Function' } } } },
    { region: 'eu-west-1', accountId: '123456789012' },
  );
  set.register('Main', 'Table', {
    ref: 'orders',
    attributes: { Arn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders' },
  });
  set.register('Main', 'Queue', {
    ref: 'http://q/billing',
    attributes: { Arn: 'arn:aws:sqs:eu-west-1:123456789012:billing' },
  });
  return set;
}

describe('TemplateSet', () => {
  it('resolves Ref and Fn::GetAtt to the registered local identities', () => {
    // Act
    const resolved = templateSet().resolve('Main', {
      TableName: { Ref: 'Table' },
      QueueArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
      Dotted: { 'Fn::GetAtt': 'Table.Arn' },
    });
    // Assess
    expect(resolved).toEqual({
      TableName: 'orders',
      QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:billing',
      Dotted: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders',
    });
  });

  it('resolves Join, Sub, Select, Split and pseudo parameters', () => {
    // Act
    const resolved = templateSet().resolve('Main', [
      { 'Fn::Join': ['/', [{ Ref: 'AWS::Region' }, { Ref: 'Table' }]] },
      { 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::AccountId}:${Table}:${Queue.Arn}' },
      { 'Fn::Sub': ['${Name}-suffix', { Name: { Ref: 'Table' } }] },
      { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] },
    ]);
    // Assess
    expect(resolved).toEqual([
      'eu-west-1/orders',
      'arn:aws:x:123456789012:orders:arn:aws:sqs:eu-west-1:123456789012:billing',
      'orders-suffix',
      'b',
    ]);
  });

  it('drops AWS::NoValue and follows Fn::If on the template conditions', () => {
    // Act
    const resolved = templateSet().resolve('Main', {
      Kept: 1,
      Dropped: { Ref: 'AWS::NoValue' },
      Chosen: { 'Fn::If': ['IsProd', 'retain', 'destroy'] },
    });
    // Assess
    expect(resolved).toEqual({ Kept: 1, Chosen: 'destroy' });
  });

  it('lists resources by type, leaving out those whose condition is false', () => {
    // Act / Assess
    expect(templateSet().resourcesOfType('AWS::S3::Bucket')).toEqual([]);
    expect(
      templateSet()
        .resourcesOfType('AWS::SQS::Queue')
        .map((ref) => ref.logicalId),
    ).toEqual(['Queue']);
  });

  it('resolves an import from another stack through its export', () => {
    // Act / Assess
    expect(templateSet().resolve('Other', { 'Fn::ImportValue': 'Shared-QueueUrl' })).toBe('http://q/billing');
  });

  it('gives resources the local stack does not create a stable placeholder', () => {
    // Act
    const set = templateSet();
    // Assess
    expect(set.resolve('Main', { Ref: 'Role' })).toBe(set.resolve('Main', { Ref: 'Role' }));
    expect(String(set.resolve('Main', { 'Fn::GetAtt': ['Role', 'Arn'] }))).toMatch(/^arn:aws:/);
  });

  it('refuses unknown resources and intrinsics with a clear error', () => {
    // Act / Assess
    expect(() => templateSet().resolve('Main', { Ref: 'Missing' })).toThrow(TemplateResolutionError);
    expect(() => templateSet().resolve('Main', { 'Fn::Cidr': ['10.0.0.0/16', 2, 8] })).toThrow(
      /unsupported intrinsic Fn::Cidr/,
    );
  });
});
