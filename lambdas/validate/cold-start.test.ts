describe('validate handler cold start', () => {
  it('fails with the name of a missing variable', async () => {
    // Prepare
    process.env.MARKET_CURRENCIES = '{"us":["USD"]}';
    delete process.env.ORDER_TOTAL_LIMIT;

    // Act / Assess
    await expect(import('./handler')).rejects.toThrow(
      'Environment variable ORDER_TOTAL_LIMIT is required but not set',
    );
  });
});
