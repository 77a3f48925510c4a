import { clientSecretsFrom, parseClientSecrets } from './client-secrets';

describe('parseClientSecrets', () => {
  it('reads the contract document', () => {
    // Act
    const secrets = parseClientSecrets('{"clients":{"client-a":["new","old"],"b.2":["s"]}}');

    // Assess
    expect(secrets.get('client-a')).toEqual(['new', 'old']);
    expect(secrets.get('b.2')).toEqual(['s']);
  });

  it.each([
    ['not JSON', 'supersecret', /not valid JSON/],
    ['no clients', '{"client-a":["s"]}', /wrong shape at: clients/],
    ['an empty secret list', '{"clients":{"a":[]}}', /wrong shape at: clients.a/],
    ['a bad client id', '{"clients":{"a b":["s"]}}', /wrong shape/],
  ])('refuses %s without echoing secret values', (_name, document, message) => {
    // Act / Assess
    expect(() => parseClientSecrets(document)).toThrow(message);
    expect(() => parseClientSecrets(document)).not.toThrow(/supersecret|"s"/);
  });
});

describe('clientSecretsFrom', () => {
  it('parses each distinct secret string once', async () => {
    // Prepare
    const fetch = jest.fn(async () => '{"clients":{"a":["s"]}}');
    const source = clientSecretsFrom(fetch);

    // Act
    const first = await source();
    const second = await source();

    // Assess
    expect(second).toBe(first);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('follows a rotated secret', async () => {
    // Prepare
    const fetch = jest
      .fn<Promise<string>, []>()
      .mockResolvedValueOnce('{"clients":{"a":["old"]}}')
      .mockResolvedValueOnce('{"clients":{"a":["new","old"]}}');
    const source = clientSecretsFrom(fetch);

    // Act
    await source();
    const rotated = await source();

    // Assess
    expect(rotated.get('a')).toEqual(['new', 'old']);
  });

  it('refuses a binary secret', async () => {
    // Act / Assess
    await expect(clientSecretsFrom(async () => new Uint8Array([1]))()).rejects.toThrow(/not a string/);
  });
});
