/**
 * Message parts ("segments"), as docs/texting-services.md describes them: a part carries 140 bytes; a GSM
 * 7-bit character costs 7 bits, one of the extension table 14 bits (escape + character); any other
 * character makes the whole message UCS-2 at 2 bytes per UTF-16 code unit. A single part holds 140
 * bytes; a longer message is split into parts of 134 bytes each (6-byte header). Hence 160/153 GSM
 * characters and 70/67 UCS-2 characters.
 *
 * The count is a real splitter's, not units divided by 153 or 67: a splitter never cuts a
 * character in two, so an extension character (2 septets) that would straddle a part boundary
 * moves whole into the next part, and so does a surrogate pair (an emoji: 2 UTF-16 units) in UCS-2.
 * 'a' x 152 + '€' + 'a' x 152 is 306 septets, yet 3 parts: 152 | € + 151 | 1.
 */

// GSM 03.38 basic character set (the characters that cost 7 bits).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u00A0ÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// GSM 03.38 extension table (escape + character: 14 bits).
const GSM_EXTENSION = '|^€{}[]~\\\f';

const basic = new Set(Array.from(GSM_BASIC).filter((c) => c !== '\u00A0'));
const extension = new Set(Array.from(GSM_EXTENSION));

export type Encoding = 'GSM-7' | 'UCS-2';

export interface SegmentInfo {
  encoding: Encoding;
  /** Encoded length in the encoding's units: septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

// One part: 140 bytes = 160 septets = 70 UCS-2 units. Longer messages: 134 bytes a part = 153 septets
// (the 6-byte header leaves 1,072 bits; a septet cannot straddle parts) = 67 UCS-2 units.
export const SINGLE_PART = { 'GSM-7': 160, 'UCS-2': 70 } as const;
export const MULTI_PART = { 'GSM-7': 153, 'UCS-2': 67 } as const;

/** The encoding a body needs and the cost of each of its characters (code points) in that encoding's units. */
function costs(body: string): { encoding: Encoding; costs: number[] } {
  const chars = Array.from(body);
  const gsmCosts: number[] = [];
  for (const ch of chars) {
    if (basic.has(ch)) gsmCosts.push(1);
    else if (extension.has(ch)) gsmCosts.push(2);
    else {
      // UCS-2 counts UTF-16 code units: a character outside the BMP (an emoji) takes two (4 bytes).
      return { encoding: 'UCS-2', costs: chars.map((c) => c.length) };
    }
  }
  return { encoding: 'GSM-7', costs: gsmCosts };
}

/**
 * Splits a body into the parts a sender would send, never cutting a character: each part is
 * returned as its characters (a string) with its size in units.
 */
export function splitParts(body: string): { encoding: Encoding; parts: Array<{ text: string; units: number }> } {
  const { encoding, costs: cost } = costs(body);
  const chars = Array.from(body);
  const total = cost.reduce((a, b) => a + b, 0);
  if (total <= SINGLE_PART[encoding]) return { encoding, parts: [{ text: body, units: total }] };
  const capacity = MULTI_PART[encoding];
  const parts: Array<{ text: string; units: number }> = [];
  let text = '';
  let units = 0;
  chars.forEach((ch, i) => {
    const c = cost[i]!;
    if (units + c > capacity) {
      parts.push({ text, units });
      text = '';
      units = 0;
    }
    text += ch;
    units += c;
  });
  if (units > 0) parts.push({ text, units });
  return { encoding, parts };
}

export function countSegments(body: string): SegmentInfo {
  const { encoding, costs: cost } = costs(body);
  let units = 0;
  for (const c of cost) units += c;
  if (units <= SINGLE_PART[encoding]) return { encoding, units, segments: 1 };
  // The splitter of splitParts, counting only.
  const capacity = MULTI_PART[encoding];
  let segments = 1;
  let used = 0;
  for (const c of cost) {
    if (used + c > capacity) {
      segments += 1;
      used = 0;
    }
    used += c;
  }
  return { encoding, units, segments };
}
