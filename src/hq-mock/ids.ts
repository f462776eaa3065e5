/**
 * Item ids and guids.
 *
 * ids: `r-<runTag>-<seq>` / `i-<runTag>-<seq>`, seq zero-padded to 9 digits. The run tag is
 * random per mock instance (and per /sim/reset), because the contract makes a receiptId unique for
 * ever: an office database that outlives a mock restart must never see an id reused. The padding
 * makes JavaScript's `<` order ids of one run by sequence, which keeps the tie rule readable.
 * The seq is the item's index + 1, so an ack needs no id->item map: the id is parsed.
 *
 * guids: stored as four uint32 words (16 bytes instead of a ~60-byte string per message) and
 * formatted only when served.
 */
import { randomBytes } from 'node:crypto';
import { randU32, type Rng } from './prng';

export const SEQ_DIGITS = 9;

/** A short random tag, e.g. "k3f9qa": 6 base-36 characters. */
export function newRunTag(): string {
  const bytes = randomBytes(6);
  let tag = '';
  for (const b of bytes) tag += (b % 36).toString(36);
  return tag;
}

export class IdCodec {
  private readonly prefix: string;

  constructor(
    letter: 'r' | 'i',
    readonly runTag: string,
  ) {
    this.prefix = `${letter}-${runTag}-`;
  }

  format(index: number): string {
    return this.prefix + String(index + 1).padStart(SEQ_DIGITS, '0');
  }

  /** The item index an id names, or -1 for anything that is not one of this run's ids. */
  parse(id: string): number {
    if (id.length !== this.prefix.length + SEQ_DIGITS || !id.startsWith(this.prefix)) return -1;
    let seq = 0;
    for (let k = this.prefix.length; k < id.length; k++) {
      const c = id.charCodeAt(k) - 48;
      if (c < 0 || c > 9) return -1;
      seq = seq * 10 + c;
    }
    return seq - 1;
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Formats four uint32 words as a lower-case UUID string. */
export function formatGuid(w0: number, w1: number, w2: number, w3: number): string {
  const h = (w: number) => HEX[w >>> 24]! + HEX[(w >>> 16) & 255]! + HEX[(w >>> 8) & 255]! + HEX[w & 255]!;
  const a = h(w0);
  const b = h(w1);
  const c = h(w2);
  const d = h(w3);
  return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
}

export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Parses a UUID string into four uint32 words (lower-cased on output by formatGuid). */
export function parseGuid(guid: string): [number, number, number, number] {
  const hex = guid.replace(/-/g, '');
  return [0, 8, 16, 24].map((k) => Number.parseInt(hex.slice(k, k + 8), 16) >>> 0) as [number, number, number, number];
}

/** A version-4 UUID from a seeded PRNG, as four words: deterministic traffic needs deterministic guids. */
export function seededGuidWords(rng: Rng): [number, number, number, number] {
  const w0 = randU32(rng);
  const w1 = ((randU32(rng) & 0xffff0fff) | 0x00004000) >>> 0; // version 4
  const w2 = ((randU32(rng) & 0x3fffffff) | 0x80000000) >>> 0; // RFC 4122 variant
  const w3 = randU32(rng);
  return [w0, w1, w2, w3];
}
