import { countSegments, splitParts } from '../../src/texting/segments';

const gsm = (n: number): string => 'a'.repeat(n);

describe('countSegments: GSM 7-bit', () => {
  it.each([
    [0, 1],
    [1, 1],
    [160, 1],
    [161, 2],
    [306, 2],
    [307, 3],
    [459, 3],
    [460, 4],
  ])('%i GSM characters make %i part(s)', (n, segments) => {
    expect(countSegments(gsm(n))).toEqual({ encoding: 'GSM-7', units: n, segments });
  });

  it('counts the whole basic alphabet, including accented letters, Greek capitals, CR and LF, as 7-bit', () => {
    const basic = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
    expect(Array.from(basic)).toHaveLength(127);
    expect(countSegments(basic)).toEqual({ encoding: 'GSM-7', units: 127, segments: 1 });
  });

  it.each(['|', '^', '€', '{', '}', '[', ']', '~', '\\'])('extension character %s costs 2 septets', (ch) => {
    expect(countSegments(ch)).toEqual({ encoding: 'GSM-7', units: 2, segments: 1 });
    expect(countSegments(gsm(158) + ch)).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(countSegments(gsm(159) + ch)).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
  });

  it('80 euro signs fill one part, 81 need two', () => {
    expect(countSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(countSegments('€'.repeat(81))).toEqual({ encoding: 'GSM-7', units: 162, segments: 2 });
  });

  it('a typical reminder', () => {
    const text = 'Hi Ana, this is Main Street Dental: your cleaning is on Tue 12/2 at 9:30am. Reply YES to confirm, or call us at (503) 555-0100.';
    expect(countSegments(text)).toEqual({ encoding: 'GSM-7', units: text.length, segments: 1 });
  });
});

describe('countSegments: UCS-2', () => {
  it.each([
    [1, 1],
    [70, 1],
    [71, 2],
    [134, 2],
    [135, 3],
    [201, 3],
    [202, 4],
  ])('%i UCS-2 characters make %i part(s)', (n, segments) => {
    expect(countSegments('ж'.repeat(n))).toEqual({ encoding: 'UCS-2', units: n, segments });
  });

  it('characters outside GSM (ç lower-case, `, curly quotes, CJK) switch to UCS-2', () => {
    for (const ch of ['ç', '`', '\u2019', '\u201C', '中', 'á', '\t']) expect(countSegments(ch).encoding).toBe('UCS-2');
  });

  it('one emoji makes a long GSM message UCS-2', () => {
    const body = `${gsm(150)}😀`;
    expect(countSegments(gsm(150))).toEqual({ encoding: 'GSM-7', units: 150, segments: 1 });
    // The emoji is a surrogate pair: 2 UTF-16 units; 152 units at 67 a part is 3 parts.
    expect(countSegments(body)).toEqual({ encoding: 'UCS-2', units: 152, segments: 3 });
  });

  it('an emoji counts as two UCS-2 units', () => {
    expect(countSegments(`${gsm(68)}😀`)).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(countSegments(`${gsm(69)}😀`)).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
  });

  it('extension characters cost one unit, not two, once the message is UCS-2', () => {
    expect(countSegments('€ж')).toEqual({ encoding: 'UCS-2', units: 2, segments: 1 });
  });
});

describe('countSegments: a real splitter never cuts a character in two', () => {
  it('an extension character that would straddle a GSM part boundary moves whole into the next part', () => {
    // 306 septets would fit 2 x 153, but part 1 can hold only 152 a's: the euro's 2 septets go to part 2.
    const body = `${gsm(152)}€${gsm(152)}`;
    expect(countSegments(body)).toEqual({ encoding: 'GSM-7', units: 306, segments: 3 });
    expect(splitParts(body).parts.map((p) => p.units)).toEqual([152, 153, 1]);
  });

  it('an extension character that ends exactly on a boundary does not add a part', () => {
    const body = `${gsm(151)}€${gsm(153)}`;
    expect(countSegments(body)).toEqual({ encoding: 'GSM-7', units: 306, segments: 2 });
  });

  it('a surrogate pair that would straddle a UCS-2 part boundary moves whole into the next part', () => {
    const body = `${'ж'.repeat(66)}😀${'ж'.repeat(66)}`;
    expect(countSegments(body)).toEqual({ encoding: 'UCS-2', units: 134, segments: 3 });
    expect(splitParts(body).parts.map((p) => p.units)).toEqual([66, 67, 1]);
    expect(countSegments(`${'ж'.repeat(65)}😀${'ж'.repeat(67)}`)).toEqual({ encoding: 'UCS-2', units: 134, segments: 2 });
  });

  it('one emoji in a long message makes it UCS-2 and multiplies the parts', () => {
    expect(countSegments(gsm(300)).segments).toBe(2);
    expect(countSegments(`${gsm(300)}😀`)).toEqual({ encoding: 'UCS-2', units: 302, segments: 5 });
  });

  it('splitParts joins back to the body and agrees with countSegments', () => {
    for (const body of ['', 'hi', gsm(160), gsm(161), `${'€'.repeat(100)}x`, `${'ж'.repeat(140)}😀😀`, `${gsm(152)}€${gsm(152)}`]) {
      const { encoding, parts } = splitParts(body);
      expect(parts.map((p) => p.text).join('')).toBe(body);
      expect({ encoding, segments: parts.length }).toEqual({ encoding: countSegments(body).encoding, segments: countSegments(body).segments });
    }
  });
});
