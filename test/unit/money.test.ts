import { formatMicros, isUsdString, MICROS_PER_USD, MoneyFormatError, parseUsdToMicros, parseUsdToMicrosOrNull } from '../../src/money';

describe('isUsdString and parseUsdToMicros', () => {
  it.each([
    ['0', 0],
    ['0.0079', 7900],
    ['12.5', 12_500_000],
    ['50.00', 50_000_000],
    ['0.000001', 1],
    ['1.123456', 1_123_456],
    ['007.5', 7_500_000],
    ['9007199254.740991', Number.MAX_SAFE_INTEGER],
  ])('%s is %i micro-dollars', (s, micros) => {
    expect(isUsdString(s)).toBe(true);
    expect(parseUsdToMicros(s)).toBe(micros);
    expect(parseUsdToMicrosOrNull(s)).toBe(micros);
  });

  it.each([
    '1e-3', '1E3', '-0.01', '-0', '+1', 'abc', '0.1234567', '', ' 1', '1 ', '1.', '.5', '1,000.00', '1_000', '0x10',
    'NaN', 'Infinity', '١٢', '１２', '12.5\n', '9007199254.740992', '99999999999999999999',
  ])('%j is not money', (s) => {
    expect(isUsdString(s)).toBe(false);
    expect(parseUsdToMicrosOrNull(s)).toBeNull();
    expect(() => parseUsdToMicros(s)).toThrow(MoneyFormatError);
  });

  it.each([0.0079, 12, null, undefined, {}, ['1']])('%j (not a string) is not money', (v) => {
    expect(isUsdString(v)).toBe(false);
  });

  it('does not echo a huge invalid input in the error', () => {
    const huge = `${'9'.repeat(10_000)}x`;
    expect(() => parseUsdToMicros(huge)).toThrow(MoneyFormatError);
    try {
      parseUsdToMicros(huge);
    } catch (err) {
      expect((err as Error).message.length).toBeLessThan(100);
    }
  });

  it('sums exactly where binary floating point would not', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(parseUsdToMicros('0.1') + parseUsdToMicros('0.2')).toBe(parseUsdToMicros('0.3'));
    const tenThousandTexts = Array.from({ length: 10_000 }, () => parseUsdToMicros('0.0079')).reduce((a, b) => a + b, 0);
    expect(formatMicros(tenThousandTexts)).toBe('79.00');
  });
});

describe('formatMicros', () => {
  it.each([
    [0, '0.00'],
    [1, '0.000001'],
    [7900, '0.0079'],
    [10_000, '0.01'],
    [12_500_000, '12.50'],
    [50_000_000, '50.00'],
    [123_456_789, '123.456789'],
    [1_264_000 / 10, '0.1264'],
    [MICROS_PER_USD * 1_000_000, '1000000.00'],
    [Number.MAX_SAFE_INTEGER, '9007199254.740991'],
  ])('%i is %s', (micros, s) => expect(formatMicros(micros)).toBe(s));

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1])('refuses %d', (micros) => {
    expect(() => formatMicros(micros)).toThrow(RangeError);
  });

  it('round-trips: format then parse gives the same micros', () => {
    for (const micros of [0, 1, 99, 7900, 10_000, 1_000_000, 12_345_678, 987_654_321_012]) {
      const s = formatMicros(micros);
      expect(isUsdString(s)).toBe(true);
      expect(parseUsdToMicros(s)).toBe(micros);
    }
  });
});
