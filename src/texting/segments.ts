/**
 * Message parts ("segments"), as texting-usage.md describes them: a part carries 140 bytes; a GSM
 * 7-bit character costs 7 bits, one of the extension table 14 bits; any other character makes the
 * whole message UCS-2 at 2 bytes per UTF-16 code unit. A single part holds 140 bytes; a longer
 * message is split into parts of 134 bytes each (6-byte header). Hence 160/153 GSM characters and
 * 70/67 UCS-2 characters.
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
const SINGLE_PART = { 'GSM-7': 160, 'UCS-2': 70 } as const;
const MULTI_PART = { 'GSM-7': 153, 'UCS-2': 67 } as const;

export function countSegments(body: string): SegmentInfo {
  let septets = 0;
  let gsm = true;
  for (const ch of body) {
    if (basic.has(ch)) septets += 1;
    else if (extension.has(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  // UCS-2 counts UTF-16 code units: an emoji outside the BMP takes two (4 bytes).
  const encoding: Encoding = gsm ? 'GSM-7' : 'UCS-2';
  const units = gsm ? septets : body.length;
  if (units <= SINGLE_PART[encoding]) return { encoding, units, segments: 1 };
  return { encoding, units, segments: Math.ceil(units / MULTI_PART[encoding]) };
}
