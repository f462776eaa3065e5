/**
 * Matching replies again after patients change (a PUT, an import): a reply that came before its
 * patient was imported, or before a number moved to another patient, was matched to nobody or to
 * the wrong patient, and stays so unless it is matched again. The rule is the one replies are
 * matched by when they arrive (matching.ts); only the replies of the numbers that changed are read
 * (the thread index, thread-index.ts), in the caller's transaction, and each reply that goes to
 * another patient gets a commlog row. A reply the office moved by hand is left alone.
 */
import type { Knex } from '@mikro-orm/knex';
import { chunks, selectIn } from '../db/bulk-sql';
import { appendCommlog, COMMLOG_KEYS, type CommlogEntry } from '../db/commlog';
import { patientCandidatesByKey } from './inbound';
import { matchReply } from './matching';
import { phoneMatchKey } from './phone';
import { fromAnyNumber } from './thread-index';

/**
 * The E.164 numbers whose phone key is `key`: replies are stored in E.164 ('+' and digits), and
 * a key is those digits, except that a 10-digit number gets a leading 1 (phone.ts).
 */
export function e164sOfKey(key: string): string[] {
  const out = [`+${key}`];
  if (key.length === 11 && key.startsWith('1')) out.push(`+${key.slice(1)}`);
  return out;
}

interface StoredReply {
  inbound_id: string;
  clinic_id: number;
  from_phone: string;
  patient_id: number | null;
  match_count: number | null;
}

/**
 * Matches again every reply from the numbers `phoneKeys`; `change` names the change that calls for
 * it (unique to it: the commlog rows' keys). Returns how many replies now belong to another patient.
 */
export async function rematchReplies(trx: Knex.Transaction, phoneKeys: Iterable<string | null>, change: string, now: number): Promise<number> {
  const keys = [...new Set([...phoneKeys].filter((k): k is string => k !== null))];
  if (keys.length === 0) return 0;
  const phones = new Set(keys.flatMap(e164sOfKey));
  const replies = (await selectIn<StoredReply>(trx,
    // A reply the office moved by hand keeps its patient (conversations' patient_set_by_office).
    `SELECT inbound_id, clinic_id, from_phone, patient_id, match_count FROM inbound_messages WHERE ${fromAnyNumber(trx)} AND NOT patient_set_by_office ORDER BY received_at, inbound_id`,
    [...phones])).filter((r) => phones.has(r.from_phone));
  if (replies.length === 0) return 0;
  const candidates = await patientCandidatesByKey(trx, keys);
  const log: CommlogEntry[] = [];
  // Replies that take the same (patient, match count) are updated by one statement: the first
  // import of a practice may re-match every reply it ever received.
  const updates = new Map<string, { patientId: number | null; matchCount: number; ids: string[] }>();
  for (const r of replies) {
    const key = phoneMatchKey(r.from_phone);
    const match = matchReply(key === null ? [] : candidates.get(key) ?? [], Number(r.clinic_id));
    const before = r.patient_id === null ? null : Number(r.patient_id);
    if (match.patientId === before && match.matchCount === (r.match_count === null ? null : Number(r.match_count))) continue;
    const group = `${match.patientId}|${match.matchCount}`;
    const u = updates.get(group) ?? { patientId: match.patientId, matchCount: match.matchCount, ids: [] };
    u.ids.push(r.inbound_id);
    updates.set(group, u);
    if (match.patientId === before) continue;
    log.push({
      eventKey: COMMLOG_KEYS.replyMoved(r.inbound_id, change), at: now, kind: 'reply_moved', patientId: match.patientId, clinicId: Number(r.clinic_id),
      phone: r.from_phone, inboundId: r.inbound_id,
      summary: `Reply matched again after a patient change: from ${before === null ? 'no patient' : `patient ${before}`} to ${match.patientId === null ? 'no patient' : `patient ${match.patientId}`}`,
    });
  }
  for (const u of updates.values()) {
    for (const part of chunks(u.ids)) {
      await trx.raw(`UPDATE inbound_messages SET patient_id = ?, match_count = ? WHERE inbound_id IN (${part.map(() => '?').join(', ')})`,
        [u.patientId, u.matchCount, ...part]);
    }
  }
  await appendCommlog(trx, log);
  return log.length;
}
