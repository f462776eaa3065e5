/**
 * What the office does with replies (PUT /api/inbound/:inboundId, POST
 * /api/conversations/:phone/read, the blocked numbers): each change in one transaction with the
 * unread counters it moves (src/office/conversations.ts), so the counts never drift from the
 * replies. A reply counts as unread while it is neither read nor hidden.
 *
 * Blocking a number marks its unread replies read (they stop counting at once) and makes every
 * later reply from it arrive hidden and read; texts to it are refused (send.ts). Unblocking lets
 * later replies count again; it does not make old ones unread.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@mikro-orm/knex';
import { appendCommlog, COMMLOG_KEYS } from '../db/commlog';
import { rowsOf } from '../db/bulk-sql';
import { adjustClinicUnread, adjustConversationUnread } from './conversations';
import { INBOUND_COLUMNS, receivedOf, type ReceivedInThread } from './conversation-queries';
import { OfficeError } from './errors';
import { phoneMatchKey } from './phone';
import { fromNumber } from './thread-index';

export interface ReplyChange {
  read?: boolean;
  hidden?: boolean;
  /** Another patient, or null for none. */
  patientId?: number | null;
}

const counts = (r: { is_read: unknown; hidden: unknown }): boolean => !r.is_read && !r.hidden;

export async function changeReply(knex: Knex, inboundId: string, change: ReplyChange, now: number = Date.now()): Promise<ReceivedInThread> {
  return knex.transaction(async (trx) => {
    const before = rowsOf<Parameters<typeof receivedOf>[0] & { from_phone: string }>(await trx.raw(
      `SELECT ${INBOUND_COLUMNS}, from_phone FROM inbound_messages WHERE inbound_id = ?`, [inboundId]))[0];
    if (!before) throw new OfficeError(404, 'unknown_reply', 'no reply has that inboundId', 'inboundId');
    if (change.patientId != null) {
      const found = rowsOf(await trx.raw('SELECT 1 AS x FROM patients WHERE patient_id = ?', [change.patientId]));
      if (found.length === 0) throw new OfficeError(404, 'unknown_patient', 'no patient has that id', 'patientId');
    }
    const isRead = change.read ?? Boolean(before.is_read);
    const hidden = change.hidden ?? Boolean(before.hidden);
    const sets: string[] = ['is_read = ?', 'hidden = ?'];
    const bind: (string | number | boolean | null)[] = [isRead, hidden];
    const oldPatient = before.patient_id === null ? null : Number(before.patient_id);
    const moved = change.patientId !== undefined && change.patientId !== oldPatient;
    if (moved) {
      sets.push('patient_id = ?', 'patient_set_by_office = ?');
      bind.push(change.patientId ?? null, true);
    }
    await trx.raw(`UPDATE inbound_messages SET ${sets.join(', ')} WHERE inbound_id = ?`, [...bind, inboundId]);

    const delta = Number(counts({ is_read: isRead, hidden })) - Number(counts(before));
    if (delta !== 0) {
      // The clinic's counter first, then the conversation: the order a page of replies locks them in
      // (noteActivity), so on PostgreSQL the two wait for each other instead of deadlocking.
      await adjustClinicUnread(trx, new Map([[Number(before.clinic_id), delta]]));
      await adjustConversationUnread(trx, before.from_phone, delta);
    }
    if (moved) {
      await appendCommlog(trx, [{
        eventKey: COMMLOG_KEYS.replyMoved(inboundId, `office:${now}:${randomUUID()}`),
        at: now,
        kind: 'reply_moved',
        patientId: change.patientId ?? null,
        clinicId: Number(before.clinic_id),
        phone: before.from_phone,
        inboundId,
        summary: change.patientId == null
          ? `Reply moved by the office from patient ${oldPatient ?? 'none'} to no patient`
          : `Reply moved by the office from patient ${oldPatient ?? 'none'} to patient ${change.patientId}`,
      }]);
    }
    const after = rowsOf<Parameters<typeof receivedOf>[0]>(await trx.raw(`SELECT ${INBOUND_COLUMNS} FROM inbound_messages WHERE inbound_id = ?`, [inboundId]))[0]!;
    return receivedOf(after);
  });
}

/** Marks every unread reply of a conversation read (hidden ones too: they are left hidden). Returns how many it marked. */
export async function markConversationRead(trx: Knex | Knex.Transaction, phone: string): Promise<number> {
  const byNumber = fromNumber(trx, phone);
  const perClinic = rowsOf<{ clinic_id: number | string; unread: number | string }>(await trx.raw(
    `SELECT clinic_id, COUNT(*) AS unread FROM inbound_messages WHERE ${byNumber.sql} AND is_read = ? AND hidden = ? GROUP BY clinic_id`, [...byNumber.bindings, false, false]));
  await trx.raw(`UPDATE inbound_messages SET is_read = ? WHERE ${byNumber.sql} AND is_read = ?`, [true, ...byNumber.bindings, false]);
  const deltas = new Map(perClinic.map((r) => [Number(r.clinic_id), -Number(r.unread)]));
  const total = perClinic.reduce((sum, r) => sum + Number(r.unread), 0);
  // In the order a page of replies locks them (see changeReply).
  await adjustClinicUnread(trx, deltas);
  await adjustConversationUnread(trx, phone, -total);
  return total;
}

export interface BlockedNumber {
  phone: string;
  blockedAtMs: number;
}

export async function listBlocked(db: Knex): Promise<BlockedNumber[]> {
  return rowsOf<{ phone: string; blocked_at: number | string }>(await db.raw('SELECT phone, blocked_at FROM blocked_numbers ORDER BY blocked_at DESC, phone'))
    .map((r) => ({ phone: r.phone, blockedAtMs: Number(r.blocked_at) }));
}

/** Blocks a number (E.164); blocking it again changes nothing. Its unread replies are marked read. */
export async function blockNumber(knex: Knex, phone: string, now: number = Date.now()): Promise<{ changed: boolean; blocked: BlockedNumber }> {
  const key = phoneMatchKey(phone)!;
  return knex.transaction(async (trx) => {
    const existing = rowsOf<{ phone: string; blocked_at: number | string }>(await trx.raw('SELECT phone, blocked_at FROM blocked_numbers WHERE phone_key = ?', [key]))[0];
    if (existing) return { changed: false, blocked: { phone: existing.phone, blockedAtMs: Number(existing.blocked_at) } };
    await trx.raw('INSERT INTO blocked_numbers (phone_key, phone, blocked_at) VALUES (?, ?, ?)', [key, phone, now]);
    await markConversationRead(trx, phone);
    return { changed: true, blocked: { phone, blockedAtMs: now } };
  });
}

/** Unblocks a number; false when it was not blocked. */
export async function unblockNumber(knex: Knex, phone: string): Promise<boolean> {
  const key = phoneMatchKey(phone)!;
  return knex.transaction(async (trx) => {
    if (rowsOf(await trx.raw('SELECT 1 AS x FROM blocked_numbers WHERE phone_key = ?', [key])).length === 0) return false;
    await trx.raw('DELETE FROM blocked_numbers WHERE phone_key = ?', [key]);
    return true;
  });
}
