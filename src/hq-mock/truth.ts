/**
 * The ground truth that the office's /status must show (docs/texting-services.md, "The usage grid"), computed from what HQ
 * holds. Pure: it sees plain facts, already filtered to the items the office has received or can
 * still receive (acked, or still available at HQ, leased or not). Items deleted by retention
 * before an ack are lost to the office, and malformed items never count in usage.
 */
import { formatMicros } from '../money';
import { monthIndex } from './months';

export interface ReceiptFact {
  /** Groups receipts of one outbound message: the guid, or any key standing for it. */
  guid: string | number;
  receiptId: string;
  clinicId: number;
  sentAt: number;
  statusAt: number;
  chargeMicros: number;
}

export interface InboundFact {
  clinicId: number;
  receivedAt: number;
  chargeMicros: number;
}

export interface UsageRow {
  sentCount: number;
  sentChargesUsd: string;
  receivedCount: number;
  receivedChargesUsd: string;
}

export interface Truth {
  months: Record<string, { clinics: Record<string, UsageRow>; totals: UsageRow }>;
  quarantinable: number;
}

/**
 * The contract's final-receipt rule: the latest statusAt wins; on a tie, the greater receiptId as
 * JavaScript's `<` compares strings (by UTF-16 code unit, not locale or number aware).
 */
export function isLaterReceipt(a: { statusAt: number; receiptId: string }, b: { statusAt: number; receiptId: string }): boolean {
  if (a.statusAt !== b.statusAt) return a.statusAt > b.statusAt;
  return b.receiptId < a.receiptId;
}

interface Acc {
  sentCount: number;
  sentMicros: number;
  receivedCount: number;
  receivedMicros: number;
}

const emptyAcc = (): Acc => ({ sentCount: 0, sentMicros: 0, receivedCount: 0, receivedMicros: 0 });

const toRow = (a: Acc): UsageRow => ({
  sentCount: a.sentCount,
  sentChargesUsd: formatMicros(a.sentMicros),
  receivedCount: a.receivedCount,
  receivedChargesUsd: formatMicros(a.receivedMicros),
});

export function computeTruth(receipts: Iterable<ReceiptFact>, inbound: Iterable<InboundFact>, zone: string, quarantinable: number): Truth {
  const months = monthIndex(zone);

  // The final receipt of each message, among the receipts that count.
  const finals = new Map<string | number, ReceiptFact>();
  for (const r of receipts) {
    const best = finals.get(r.guid);
    if (!best || isLaterReceipt(r, best)) finals.set(r.guid, r);
  }

  const byMonth = new Map<string, Map<number, Acc>>();
  const accFor = (month: string, clinicId: number): Acc => {
    let clinics = byMonth.get(month);
    if (!clinics) byMonth.set(month, (clinics = new Map()));
    let acc = clinics.get(clinicId);
    if (!acc) clinics.set(clinicId, (acc = emptyAcc()));
    return acc;
  };

  for (const r of finals.values()) {
    const acc = accFor(months.keyOf(r.sentAt), r.clinicId);
    acc.sentCount++;
    acc.sentMicros += r.chargeMicros;
  }
  for (const m of inbound) {
    const acc = accFor(months.keyOf(m.receivedAt), m.clinicId);
    acc.receivedCount++;
    acc.receivedMicros += m.chargeMicros;
  }

  const out: Truth['months'] = {};
  for (const month of [...byMonth.keys()].sort()) {
    const clinics: Record<string, UsageRow> = {};
    const total = emptyAcc();
    const entries = [...byMonth.get(month)!.entries()].sort((a, b) => a[0] - b[0]);
    for (const [clinicId, acc] of entries) {
      clinics[String(clinicId)] = toRow(acc);
      total.sentCount += acc.sentCount;
      total.sentMicros += acc.sentMicros;
      total.receivedCount += acc.receivedCount;
      total.receivedMicros += acc.receivedMicros;
    }
    out[month] = { clinics, totals: toRow(total) };
  }
  return { months: out, quarantinable };
}
