import { normalizePhone, phoneMatchKey } from '../../src/office/phone';

describe('normalizePhone', () => {
  it.each([
    ['+15035550123', '+15035550123'],
    ['+1 (503) 555-0123', '+15035550123'],
    ['5035550123', '+15035550123'],
    ['(503) 555-0123', '+15035550123'],
    ['503.555.0123', '+15035550123'],
    ['503 555 0123', '+15035550123'],
    ['1-503-555-0123', '+15035550123'],
    ['15035550123', '+15035550123'],
    ['  503-555-0123  ', '+15035550123'],
    ['+447700900123', '+447700900123'],
    ['+44 7700 900123', '+447700900123'],
    ['+16045550123', '+16045550123'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['555-0123', '7 digits'],
    ['035550123', '9 digits'],
    ['25035550123', '11 digits not starting with 1'],
    ['1035550123', 'area code starting with 0... (10 digits starting with 1)'],
    ['0035550123', 'area code starting with 0'],
    ['5031550123', 'exchange starting with 1'],
    ['+1503555012', '+1 with 9 digits'],
    ['+150355501234', '+1 with 11 digits'],
    ['+0123456789', 'country code 0'],
    ['+1234567', 'too short for E.164'],
    ['+1234567890123456', 'longer than 15 digits'],
    ['503-555-O123', 'a letter O'],
    ['+1 503 555 0123 ext 4', 'an extension'],
    ['++15035550123', 'two plus signs'],
    ['5035550123#', 'a hash'],
  ])('%s is refused (%s)', (input) => {
    expect(normalizePhone(input)).toBeNull();
  });
});

describe('phoneMatchKey', () => {
  it('keeps digits only and gives a 10-digit North American number its leading 1', () => {
    expect(phoneMatchKey('+15035550123')).toBe('15035550123');
    expect(phoneMatchKey('5035550123')).toBe('15035550123');
    expect(phoneMatchKey('(503) 555-0123')).toBe('15035550123');
    expect(phoneMatchKey('1 503 555 0123')).toBe('15035550123');
    expect(phoneMatchKey('+447700900123')).toBe('447700900123');
    expect(phoneMatchKey('')).toBeNull();
  });

  it('a 10-digit number and the same with a leading 1 have one key', () => {
    expect(phoneMatchKey('503-555-0123')).toBe(phoneMatchKey('+1 503 555 0123'));
  });
});
