import { parseArgs, UsageError } from '../../src/hq-mock/cli';

describe('hq-mock CLI flags', () => {
  test('defaults and every flag', () => {
    expect(parseArgs([])).toEqual({ port: 4010 });
    expect(parseArgs(['--port', '0', '--host', '0.0.0.0', '--api-key', 'k', '--lease-ms=500', '--demo', '--seed', '3'])).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      apiKey: 'k',
      leaseMs: 500,
      seed: 3,
      demo: { backlogMessages: expect.any(Number), perMinute: expect.any(Number) },
    });
    expect(parseArgs(['--monthly-limit', '12.5', '--receipt-delay-ms', '0'])).toMatchObject({ monthlyLimitUsd: '12.5', receiptDelayMs: 0 });
    expect(parseArgs(['--port', '1', '--help'])).toBe('help');
  });

  test.each([
    [['--port', 'abc'], '--port needs an integer from 0 to 65535 (got "abc")'],
    [['--port', '70000'], '--port needs an integer'],
    [['--port'], '--port needs an integer'],
    [['--lease-ms', '0'], '--lease-ms needs an integer'],
    [['--api-key'], '--api-key needs a value'],
    [['--monthly-limit', '1e3'], '--monthly-limit needs a USD amount'],
    [['--demo=yes'], '--demo takes no value'],
    [['--frobnicate'], 'unknown option "--frobnicate"'],
  ])('%j is refused with one clear line', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});
