/**
 * The office's side of recording a page of patient replies, run inside recordInboundPage's
 * transaction (src/ingest/record-page.ts) and only for replies new to the database, so a replayed
 * page never acts twice:
 *
 * - matching: each reply is assigned to a patient or none (matching.ts), with ONE patients query
 *   per page (by phone key), never one per reply;
 * - carrier keywords: STOP and START set the number's opt-out state (the latest reply by
 *   receivedAt wins, so a late redelivery of an older STOP does not undo a newer START); STOP
 *   turns the matching patients' Text OK to No, and a START that lifts an opt-out turns it back
 *   to Yes; HELP and INFO get an automatic reply, recorded here as a pending office message whose
 *   guid derives from the inbound id (queued once, whatever happens).
 */
import type { Knex } from '@mikro-orm/knex';
import { chunks, insertRows, rowsOf, type SqlValue } from '../db/bulk-sql';
import type { ValidInbound } from '../hq/schemas';
import { countSegments } from '../texting/segments';
import { helpReplyText } from './help-reply';
import { detectKeyword, type Keyword } from './keywords';
import { matchReply, type MatchResult, type PatientCandidate } from './matching';
import { phoneMatchKey } from './phone';
import { insertOfficeMessages, type OfficeMessage } from './send';
import { SETTING_PRACTICE_TITLE, titleInEffect } from './settings';
import { helpReplyGuid } from './uuid';

export interface InboundAnnotation extends MatchResult {
  keyword: Keyword | null;
}

/** Patient match and keyword of each reply, by inboundId: one patients query per page. */
export async function annotateInbound(trx: Knex.Transaction | Knex, messages: readonly ValidInbound[]): Promise<Map<string, InboundAnnotation>> {
  const keyOf = new Map<string, string | null>();
  for (const m of messages) keyOf.set(m.inboundId, phoneMatchKey(m.fromPhone));
  const keys = [...new Set([...keyOf.values()].filter((k): k is string => k !== null))];
  const byKey = new Map<string, PatientCandidate[]>();
  for (const part of chunks(keys)) {
    const rows = rowsOf<{ patient_id: number; clinic_id: number | null; guarantor_id: number | null; phone_key: string }>(await trx.raw(
      `SELECT patient_id, clinic_id, guarantor_id, phone_key FROM patients WHERE phone_key IN (${part.map(() => '?').join(', ')})`, part));
    for (const r of rows) {
      const list = byKey.get(r.phone_key) ?? [];
      list.push({
        patientId: Number(r.patient_id),
        clinicId: r.clinic_id === null ? null : Number(r.clinic_id),
        guarantorId: r.guarantor_id === null ? null : Number(r.guarantor_id),
      });
      byKey.set(r.phone_key, list);
    }
  }
  const out = new Map<string, InboundAnnotation>();
  for (const m of messages) {
    const key = keyOf.get(m.inboundId) ?? null;
    const match = matchReply(key === null ? [] : byKey.get(key) ?? [], m.clinicId);
    out.set(m.inboundId, { ...match, keyword: detectKeyword(m.body) });
  }
  return out;
}

interface OptState {
  optedOut: boolean;
  changedAt: number;
  inboundId: string | null;
}

/** True when the reply (t, id) is newer than the state: later receivedAt, or on a tie the greater inboundId. */
function newer(t: number, id: string, state: OptState): boolean {
  return t > state.changedAt || (t === state.changedAt && (state.inboundId === null || id > state.inboundId));
}

/**
 * Acts on the keywords of replies just inserted. Returns the office messages it recorded (HELP
 * replies) so the caller can queue their sends after commit and mark their usage pairs.
 */
export async function actOnNewInbound(
  trx: Knex.Transaction | Knex,
  fresh: readonly ValidInbound[],
  annotations: ReadonlyMap<string, InboundAnnotation>,
  now: number,
): Promise<OfficeMessage[]> {
  const keyworded = fresh.filter((m) => annotations.get(m.inboundId)?.keyword != null);
  if (keyworded.length === 0) return [];

  // ---- STOP / START: the opt-out state per number, latest reply wins ----
  const optEvents = keyworded
    .filter((m) => annotations.get(m.inboundId)!.keyword !== 'help')
    .map((m) => ({ m, key: phoneMatchKey(m.fromPhone), stop: annotations.get(m.inboundId)!.keyword === 'stop' }))
    .filter((e): e is { m: ValidInbound; key: string; stop: boolean } => e.key !== null)
    .sort((a, b) => a.m.receivedAtMs - b.m.receivedAtMs || (a.m.inboundId < b.m.inboundId ? -1 : a.m.inboundId > b.m.inboundId ? 1 : 0));
  if (optEvents.length > 0) {
    const keys = [...new Set(optEvents.map((e) => e.key))];
    const states = new Map<string, { initial: boolean; state: OptState; stopApplied: boolean; changed: boolean }>();
    for (const part of chunks(keys)) {
      for (const r of rowsOf<{ phone_key: string; opted_out: number | boolean; changed_at: number | string; inbound_id: string | null }>(await trx.raw(
        `SELECT phone_key, opted_out, changed_at, inbound_id FROM opt_outs WHERE phone_key IN (${part.map(() => '?').join(', ')})`, part))) {
        const state = { optedOut: Boolean(r.opted_out), changedAt: Number(r.changed_at), inboundId: r.inbound_id };
        states.set(r.phone_key, { initial: state.optedOut, state, stopApplied: false, changed: false });
      }
    }
    for (const e of optEvents) {
      let s = states.get(e.key);
      if (!s) {
        s = { initial: false, state: { optedOut: false, changedAt: -Infinity, inboundId: null }, stopApplied: false, changed: false };
        states.set(e.key, s);
      }
      if (!newer(e.m.receivedAtMs, e.m.inboundId, s.state)) continue; // an older reply arriving late
      s.state = { optedOut: e.stop, changedAt: e.m.receivedAtMs, inboundId: e.m.inboundId };
      s.changed = true;
      if (e.stop) s.stopApplied = true;
    }
    const rows: SqlValue[][] = [];
    const textOkNo: string[] = [];
    const textOkYes: string[] = [];
    for (const [key, s] of states) {
      if (!s.changed) continue;
      rows.push([key, s.state.optedOut, s.state.changedAt, s.state.inboundId, now]);
      if (s.state.optedOut && s.stopApplied) textOkNo.push(key);
      if (!s.state.optedOut && s.initial) textOkYes.push(key);
    }
    await insertRows(trx, 'opt_outs', ['phone_key', 'opted_out', 'changed_at', 'inbound_id', 'updated_at'], rows,
      `ON CONFLICT (phone_key) DO UPDATE SET opted_out = excluded.opted_out, changed_at = excluded.changed_at,
         inbound_id = excluded.inbound_id, updated_at = excluded.updated_at`);
    for (const part of chunks(textOkNo)) {
      await trx.raw(`UPDATE patients SET text_ok = ?, updated_at = ? WHERE phone_key IN (${part.map(() => '?').join(', ')}) AND text_ok <> ?`, ['no', now, ...part, 'no']);
    }
    for (const part of chunks(textOkYes)) {
      await trx.raw(`UPDATE patients SET text_ok = ?, updated_at = ? WHERE phone_key IN (${part.map(() => '?').join(', ')}) AND text_ok = ?`, ['yes', now, ...part, 'no']);
    }
  }

  // ---- HELP / INFO: one automatic reply per reply, from the clinic it arrived at ----
  const helps = keyworded.filter((m) => annotations.get(m.inboundId)!.keyword === 'help');
  if (helps.length === 0) return [];
  const clinicIds = [...new Set(helps.map((m) => m.clinicId))];
  const titles = new Map<number, string | null>();
  for (const r of rowsOf<{ clinic_id: number; optin_title: string | null }>(await trx.raw(
    `SELECT clinic_id, optin_title FROM clinics WHERE clinic_id IN (${clinicIds.map(() => '?').join(', ')})`, clinicIds))) {
    titles.set(Number(r.clinic_id), r.optin_title);
  }
  const practice = rowsOf<{ value: string }>(await trx.raw('SELECT value FROM settings WHERE key = ?', [SETTING_PRACTICE_TITLE]))[0]?.value ?? null;
  const replies: OfficeMessage[] = helps.map((m) => {
    const body = helpReplyText(titleInEffect(titles.get(m.clinicId) ?? null, practice));
    return {
      guid: helpReplyGuid(m.inboundId),
      clinicId: m.clinicId,
      patientId: annotations.get(m.inboundId)!.patientId,
      toPhone: m.fromPhone,
      body,
      segments: countSegments(body).segments,
    };
  });
  await insertOfficeMessages(trx, replies, now);
  return replies;
}
