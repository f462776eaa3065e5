/**
 * The office's side of recording a page of patient replies, run inside recordInboundPage's
 * transaction (src/ingest/record-inbound.ts) and only for replies new to the database, so a replayed
 * page never acts twice, and everything it writes commits or rolls back with the page:
 *
 * - matching: each reply is assigned to a patient or none (matching.ts), with ONE patients query
 *   per page (by phone key), never one per reply;
 * - the commlog: one row per reply received, and one per fact it caused (src/db/commlog.ts);
 * - carrier keywords: STOP and START set the number's opt-out state (the latest reply by
 *   receivedAt wins, so a late redelivery of an older STOP does not undo a newer START). A STOP
 *   turns the matching patients' Text OK to No and declines a pending opt-in request; a START
 *   that lifts an opt-out turns Text OK back from No to Yes; a START, YES or OPTIN from a number
 *   whose patient was sent the opt-in text confirms it (Text OK Yes, optin 'confirmed', optin.ts).
 * - automatic texts, recorded here as pending office messages whose guids derive from the reply's
 *   id (so each is queued once, whatever the redeliveries and crashes): the one confirmation a
 *   STOP gets, the one a START gets (a plain YES only when it opted in), and the answer to HELP and
 *   INFO (not to a number that has opted out: only the confirmations go to those, consent.ts).
 */
import type { Knex } from '@mikro-orm/knex';
import { chunks, insertRows, rowsOf, selectIn, type SqlValue } from '../db/bulk-sql';
import { appendCommlog, COMMLOG_KEYS, type CommlogEntry } from '../db/commlog';
import { lockKeys, LOCK_SPACE } from '../db/pg-serialized';
import type { ValidInbound } from '../hq/items';
import { countSegments } from '../texting/segments';
import { helpReplyText, startConfirmationText, stopConfirmationText } from './help-reply';
import { detectKeyword, isPlainYes, type Keyword } from './keywords';
import { matchReply, type MatchResult, type PatientCandidate } from './matching';
import type { OptinStatus } from './optin-status';
import type { TextOk } from './text-ok';
import { phoneMatchKey } from './phone';
import type { Purpose } from './purpose';
import { insertOfficeMessages, type OfficeMessage } from './send';
import { readSetting, SETTING_PRACTICE_TITLE } from '../db/store/settings';
import { titleInEffect } from './settings';
import { helpReplyGuid, startConfirmationGuid, stopConfirmationGuid } from './uuid';

export interface InboundAnnotation extends MatchResult {
  keyword: Keyword | null;
}

/** The patients that share each phone key, for matching: one query for all the keys. */
export async function patientCandidatesByKey(trx: Knex.Transaction | Knex, keys: readonly string[]): Promise<Map<string, PatientCandidate[]>> {
  const byKey = new Map<string, PatientCandidate[]>();
  for (const part of chunks([...new Set(keys)])) {
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
  return byKey;
}

/** Patient match and keyword of each reply, by inboundId: one patients query per page. */
export async function annotateInbound(trx: Knex.Transaction | Knex, messages: readonly ValidInbound[]): Promise<Map<string, InboundAnnotation>> {
  const keyOf = new Map<string, string | null>();
  for (const m of messages) keyOf.set(m.inboundId, phoneMatchKey(m.fromPhone));
  const byKey = await patientCandidatesByKey(trx, [...keyOf.values()].filter((k): k is string => k !== null));
  const out = new Map<string, InboundAnnotation>();
  for (const m of messages) {
    const key = keyOf.get(m.inboundId) ?? null;
    const match = matchReply(key === null ? [] : byKey.get(key) ?? [], m.clinicId);
    out.set(m.inboundId, { ...match, keyword: detectKeyword(m.body) });
  }
  return out;
}

/** The commlog's words for where a reply went. */
export function matchSummary(match: MatchResult): string {
  if (match.patientId !== null) return `assigned to patient ${match.patientId}`;
  if (match.matchCount === 0) return 'no patient has this number';
  return `${match.matchCount} patients share this number, assigned to none`;
}

const KEYWORD_NAMES: Readonly<Record<Keyword, string>> = { stop: 'STOP', start: 'START', help: 'HELP' };

interface OptState {
  optedOut: boolean;
  changedAt: number;
  inboundId: string | null;
}

/** True when the reply (t, id) is newer than the state: later receivedAt, or on a tie the greater inboundId. */
function newer(t: number, id: string, state: OptState): boolean {
  return t > state.changedAt || (t === state.changedAt && (state.inboundId === null || id > state.inboundId));
}

interface ConsentPatient {
  patientId: number;
  clinicId: number | null;
  textOk: TextOk;
  optinStatus: OptinStatus | null;
  changed: boolean;
}

interface KeyState {
  state: OptState;
  changed: boolean;
  patients: ConsentPatient[];
}

/** An automatic text to send in answer to a reply. */
interface Answer {
  reply: ValidInbound;
  purpose: Purpose;
}

/** The least time between two automatic HELP answers to one number. */
export const HELP_ANSWER_EVERY_MS = 3_600_000;

const compareReplies = (a: ValidInbound, b: ValidInbound): number =>
  a.receivedAtMs - b.receivedAtMs || (a.inboundId < b.inboundId ? -1 : a.inboundId > b.inboundId ? 1 : 0);

/**
 * Records the commlog rows of replies just inserted and acts on their keywords. Returns the office
 * messages it recorded (confirmations, HELP answers) so the caller can queue their sends after
 * commit and mark their usage pairs. `now` is the daemon's calendar clock (`MonthBucketer.now()`),
 * the one the send path stamps and ages office texts by (send.ts): the automatic texts, the HELP
 * throttle and the commlog rows are all read and written on it.
 */
export async function actOnNewInbound(
  trx: Knex.Transaction,
  fresh: readonly ValidInbound[],
  annotations: ReadonlyMap<string, InboundAnnotation>,
  now: number,
): Promise<OfficeMessage[]> {
  const log: CommlogEntry[] = [];
  const ordered = [...fresh].sort(compareReplies);
  for (const m of ordered) {
    const note = annotations.get(m.inboundId)!;
    log.push({
      eventKey: COMMLOG_KEYS.reply(m.inboundId), at: now, kind: 'reply_received', patientId: note.patientId, clinicId: m.clinicId,
      phone: m.fromPhone, inboundId: m.inboundId, body: m.body,
      summary: `Reply received at clinic ${m.clinicId}${note.keyword ? ` (keyword ${KEYWORD_NAMES[note.keyword]})` : ''}; ${matchSummary(note)}`,
    });
  }

  const keyworded = ordered
    .map((m) => ({ m, keyword: annotations.get(m.inboundId)?.keyword ?? null, key: phoneMatchKey(m.fromPhone) }))
    .filter((e): e is { m: ValidInbound; keyword: Keyword; key: string } => e.keyword !== null && e.key !== null);
  if (keyworded.length === 0) {
    await appendCommlog(trx, log);
    return [];
  }

  // ---- the state of each number and its patients, before this page ----
  const keys = [...new Set(keyworded.map((e) => e.key))];
  // Pages may be written side by side (PostgreSQL): the numbers' locks make reading their state,
  // deciding and writing it one step against any other page with a keyword from the same number.
  await lockKeys(trx, LOCK_SPACE.consent, keys);
  const states = new Map<string, KeyState>();
  for (const key of keys) states.set(key, { state: { optedOut: false, changedAt: -Infinity, inboundId: null }, changed: false, patients: [] });
  for (const r of await selectIn<{ phone_key: string; opted_out: number | boolean; changed_at: number | string; inbound_id: string | null }>(trx,
    'SELECT phone_key, opted_out, changed_at, inbound_id FROM opt_outs WHERE phone_key IN {in}', keys)) {
    states.get(r.phone_key)!.state = { optedOut: Boolean(r.opted_out), changedAt: Number(r.changed_at), inboundId: r.inbound_id };
  }
  for (const r of await selectIn<{ patient_id: number; clinic_id: number | null; phone_key: string; text_ok: TextOk; optin_status: OptinStatus | null }>(trx,
    'SELECT patient_id, clinic_id, phone_key, text_ok, optin_status FROM patients WHERE phone_key IN {in} ORDER BY patient_id', keys)) {
    states.get(r.phone_key)!.patients.push({
      patientId: Number(r.patient_id), clinicId: r.clinic_id === null ? null : Number(r.clinic_id), textOk: r.text_ok, optinStatus: r.optin_status, changed: false,
    });
  }

  // ---- when each number was last answered HELP (at most one answer an hour) ----
  const helpPhones = [...new Set(keyworded.filter((e) => e.keyword === 'help').map((e) => e.m.fromPhone))];
  const lastHelpAnswer = new Map<string, number>();
  for (const r of await selectIn<{ to_phone: string; at: number | string }>(trx,
    `SELECT to_phone, MAX(created_at) AS at FROM outbound_messages WHERE purpose = 'help_reply' AND to_phone IN {in} GROUP BY to_phone`, helpPhones)) {
    lastHelpAnswer.set(r.to_phone, Number(r.at));
  }

  // ---- each keyword reply in time order ----
  const answers: Answer[] = [];
  for (const { m, keyword, key } of keyworded) {
    const s = states.get(key)!;
    const matched = annotations.get(m.inboundId)!.patientId;
    const setTextOk = (p: ConsentPatient, to: TextOk, why: string): void => {
      if (p.textOk === to) return;
      log.push({
        eventKey: COMMLOG_KEYS.textOkByReply(m.inboundId, p.patientId), at: now, kind: 'text_ok_changed', patientId: p.patientId, clinicId: p.clinicId,
        phone: m.fromPhone, inboundId: m.inboundId, summary: `Text OK changed from ${p.textOk} to ${to}: ${why}`,
      });
      p.textOk = to;
      p.changed = true;
    };
    const answerOptin = (p: ConsentPatient, to: 'confirmed' | 'declined'): void => {
      p.optinStatus = to;
      p.changed = true;
      log.push({
        eventKey: COMMLOG_KEYS.optinAnswer(m.inboundId, p.patientId), at: now, kind: to === 'confirmed' ? 'opt_in' : 'opt_out', patientId: p.patientId,
        clinicId: p.clinicId, phone: m.fromPhone, inboundId: m.inboundId,
        summary: to === 'confirmed' ? 'Consented to texts: answered the opt-in request' : 'Declined texts: answered the opt-in request with STOP',
      });
    };

    if (keyword === 'help') {
      // Not to a number that has opted out: only the STOP and START confirmations go to those.
      // At most one answer per number an hour: a number sending HELP over and over (or a backlog
      // of them) is not answered (and billed) each time. Each reply is still recorded and counted.
      const last = lastHelpAnswer.get(m.fromPhone);
      if (!s.state.optedOut && (last === undefined || now - last >= HELP_ANSWER_EVERY_MS)) {
        answers.push({ reply: m, purpose: 'help_reply' });
        lastHelpAnswer.set(m.fromPhone, now);
      }
      continue;
    }
    if (!newer(m.receivedAtMs, m.inboundId, s.state)) continue; // an older reply arriving late changes nothing
    const wasOptedOut = s.state.optedOut;
    s.state = { optedOut: keyword === 'stop', changedAt: m.receivedAtMs, inboundId: m.inboundId };
    s.changed = true;

    if (keyword === 'stop') {
      if (!wasOptedOut) {
        log.push({ eventKey: COMMLOG_KEYS.consent(m.inboundId), at: now, kind: 'opt_out', patientId: matched, clinicId: m.clinicId, phone: m.fromPhone, inboundId: m.inboundId,
          summary: 'Opted out of texts: replied STOP' });
      }
      for (const p of s.patients) {
        setTextOk(p, 'no', 'the number replied STOP');
        if (p.optinStatus === 'sent') answerOptin(p, 'declined');
      }
      answers.push({ reply: m, purpose: 'stop_confirmation' });
      continue;
    }

    // START, UNSTOP, OPTIN, YES
    let confirmedRequest = false;
    if (wasOptedOut) {
      log.push({ eventKey: COMMLOG_KEYS.consent(m.inboundId), at: now, kind: 'opt_in', patientId: matched, clinicId: m.clinicId, phone: m.fromPhone, inboundId: m.inboundId,
        summary: 'Opted back in to texts: replied START' });
    }
    for (const p of s.patients) {
      if (p.optinStatus === 'sent') {
        answerOptin(p, 'confirmed');
        setTextOk(p, 'yes', 'the patient answered the opt-in request');
        confirmedRequest = true;
      } else if (wasOptedOut && p.textOk === 'no') {
        setTextOk(p, 'yes', 'the number opted back in');
      }
    }
    if (wasOptedOut || confirmedRequest || !isPlainYes(m.body)) answers.push({ reply: m, purpose: 'start_confirmation' });
  }

  // ---- write the new states ----
  const optRows: SqlValue[][] = [];
  for (const [key, s] of states) if (s.changed) optRows.push([key, s.state.optedOut, s.state.changedAt, s.state.inboundId, now]);
  await insertRows(trx, 'opt_outs', ['phone_key', 'opted_out', 'changed_at', 'inbound_id', 'updated_at'], optRows,
    `ON CONFLICT (phone_key) DO UPDATE SET opted_out = excluded.opted_out, changed_at = excluded.changed_at,
       inbound_id = excluded.inbound_id, updated_at = excluded.updated_at`);
  for (const s of states.values()) {
    for (const p of s.patients) {
      if (!p.changed) continue;
      await trx.raw(
        `UPDATE patients SET text_ok = ?, updated_at = ?, optin_status = ?,
           optin_at = CASE WHEN optin_status IS NULL OR optin_status <> ? THEN ? ELSE optin_at END WHERE patient_id = ?`,
        [p.textOk, now, p.optinStatus, p.optinStatus ?? '', now, p.patientId]);
    }
  }
  await appendCommlog(trx, log);

  // ---- the automatic texts, from the clinic each reply arrived at ----
  if (answers.length === 0) return [];
  const clinicIds = [...new Set(answers.map((a) => a.reply.clinicId))];
  const titles = new Map<number, string | null>();
  for (const r of await selectIn<{ clinic_id: number; optin_title: string | null }>(trx, 'SELECT clinic_id, optin_title FROM clinics WHERE clinic_id IN {in}', clinicIds)) {
    titles.set(Number(r.clinic_id), r.optin_title);
  }
  const practice = await readSetting(trx, SETTING_PRACTICE_TITLE);
  const texts: OfficeMessage[] = answers.map(({ reply: m, purpose }) => {
    const title = titleInEffect(titles.get(m.clinicId) ?? null, practice);
    const [body, guid] = purpose === 'stop_confirmation' ? [stopConfirmationText(title), stopConfirmationGuid(m.inboundId)]
      : purpose === 'start_confirmation' ? [startConfirmationText(title), startConfirmationGuid(m.inboundId)]
        : [helpReplyText(title), helpReplyGuid(m.inboundId)];
    return { guid, clinicId: m.clinicId, patientId: annotations.get(m.inboundId)!.patientId, toPhone: m.fromPhone, body, segments: countSegments(body).segments, purpose };
  });
  await insertOfficeMessages(trx, texts, now);
  return texts;
}
