/**
 * Splits the items of one good HQ page into valid items and quarantine entries (docs/hq-api.md: an
 * item that breaks the item's shape is stored verbatim in quarantine, then acknowledged; the
 * rest of the page goes on). Pure: no I/O, so the record-then-ack step can commit both halves
 * in one transaction.
 */
import { createHash } from 'node:crypto';
import {
  describeIssues,
  inboundSchema,
  isStorableText,
  MAX_ID_LENGTH,
  receiptSchema,
  type ValidInbound,
  type ValidReceipt,
} from '../hq/schemas';
import { fastReceipt } from './fast-receipt';

export type ItemKind = 'receipt' | 'inbound';

export interface QuarantineEntry {
  kind: ItemKind;
  /** Identifies the item for counting distinct quarantined items: its id, or 'sha256:<hex of raw>'. */
  itemKey: string;
  /** The id to acknowledge to HQ; null when the item has no usable id and cannot be acknowledged. */
  ackId: string | null;
  /** The item verbatim, as JSON. */
  raw: string;
  /** Field names and problems only: never the item's values (phones, bodies, amounts). */
  reason: string;
}

export interface SplitPage<T> {
  valid: T[];
  quarantined: QuarantineEntry[];
  /** validIndex[i]: the position in the page of valid[i] (to find the item verbatim again). */
  validIndex: number[];
}

/** Ids longer than this are not sent back in an ack (HQ never hands out such ids; a body that size is garbage). */
const MAX_ACK_ID_LENGTH = 1000;

const ID_FIELD: Record<ItemKind, 'receiptId' | 'inboundId'> = { receipt: 'receiptId', inbound: 'inboundId' };

export function splitPage(kind: 'receipt', items: readonly unknown[]): SplitPage<ValidReceipt>;
export function splitPage(kind: 'inbound', items: readonly unknown[]): SplitPage<ValidInbound>;
export function splitPage(kind: ItemKind, items: readonly unknown[]): SplitPage<ValidReceipt> | SplitPage<ValidInbound>;
export function splitPage(kind: ItemKind, items: readonly unknown[]): SplitPage<ValidReceipt | ValidInbound> {
  const schema = kind === 'receipt' ? receiptSchema : inboundSchema;
  const valid: Array<ValidReceipt | ValidInbound> = [];
  const validIndex: number[] = [];
  const quarantined: QuarantineEntry[] = [];
  items.forEach((item, index) => {
    // Well-formed receipts take the fast path (same result); the schema decides everything else.
    const fast = kind === 'receipt' ? fastReceipt(item) : null;
    if (fast !== null) {
      valid.push(fast);
      validIndex.push(index);
      return;
    }
    const result = schema.safeParse(item);
    if (result.success) {
      valid.push(result.data);
      validIndex.push(index);
    } else quarantined.push(quarantineEntry(kind, item, describeIssues(result.error.issues, item)));
  });
  return { valid, quarantined, validIndex };
}

/** Builds the quarantine entry of an item that failed validation for `reason`. */
export function quarantineEntry(kind: ItemKind, item: unknown, reason: string): QuarantineEntry {
  const raw = rawJson(item);
  const id = idOf(kind, item);
  // An id the database cannot store exactly (too long, a NUL, a lone surrogate) keys the item by its content.
  const itemKey = id !== null && id.length <= MAX_ID_LENGTH && isStorableText(id) ? id : `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  const ackId = id !== null && id.length <= MAX_ACK_ID_LENGTH ? id : null;
  return { kind, itemKey, ackId, raw, reason };
}

/** The item's own id field when it is a non-empty string (whatever else is wrong with the item). */
function idOf(kind: ItemKind, item: unknown): string | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return null;
  const id: unknown = (item as Record<string, unknown>)[ID_FIELD[kind]];
  return typeof id === 'string' && id.length > 0 ? id : null;
}

/**
 * Items come from JSON.parse, so they stringify back; JSON.stringify escapes NUL and lone
 * surrogates, so the text is always storable. The fallbacks cover what JSON cannot hold.
 */
function rawJson(item: unknown): string {
  try {
    return JSON.stringify(item) ?? String(item);
  } catch {
    return Object.prototype.toString.call(item);
  }
}
