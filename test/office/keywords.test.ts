import { detectKeyword, HELP_WORDS, isPlainYes, START_WORDS, STOP_WORDS } from '../../src/office/keywords';

describe('detectKeyword', () => {
  it.each(STOP_WORDS.map((w) => [w]))('%s opts out', (w) => {
    expect(detectKeyword(w)).toBe('stop');
    expect(detectKeyword(w.toLowerCase())).toBe('stop');
  });
  it.each(START_WORDS.map((w) => [w]))('%s opts back in', (w) => {
    expect(detectKeyword(w)).toBe('start');
  });
  it.each(HELP_WORDS.map((w) => [w]))('%s asks for help', (w) => {
    expect(detectKeyword(w)).toBe('help');
  });

  it('matches the whole trimmed message, in any case', () => {
    expect(detectKeyword('  Stop \n')).toBe('stop');
    expect(detectKeyword('\tyEs ')).toBe('start');
    expect(detectKeyword('Help')).toBe('help');
    expect(detectKeyword('unStop')).toBe('start');
  });

  it('is not a keyword when anything else is in the message', () => {
    for (const body of ['STOP.', 'Stop please', 'Yes, see you then', 'HELP!', 'please stop', 'S T O P', 'STOPP', 'info?', '', '   ', 'C']) {
      expect(detectKeyword(body)).toBeNull();
    }
  });
});

describe('OPTIN and a plain YES', () => {
  it('OPTIN opts in like START', () => {
    expect(detectKeyword('OPTIN')).toBe('start');
    expect(detectKeyword(' optin ')).toBe('start');
  });
  it('tells a plain YES from the other START words', () => {
    expect(isPlainYes(' yes ')).toBe(true);
    for (const w of ['START', 'UNSTOP', 'OPTIN', 'Yes, see you then', 'STOP']) expect(isPlainYes(w)).toBe(false);
  });
});
