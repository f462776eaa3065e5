/**
 * The patients table and its CSV import (scripts/import-patients.ts).
 *
 * A file is checked row by row and every bad row is reported with its line number, the field and
 * the reason (never the value: names and numbers are patient information). Nothing is imported
 * from a file with errors unless the caller asks to skip bad rows; the good rows then go in, in
 * one transaction. Rows are upserted by patientId, so importing the same file again changes nothing.
 * An import is a change to patients like a PUT: Text OK changes are logged, opt-in suggested, and
 * replies matched again (upsertPatients).
 *
 * Columns (header names are case-insensitive; Open Dental's names work too):
 *   patientId (PatNum)       positive integer, unique in the file            required
 *   name                     or firstName (FName) + lastName (LName)         required
 *   wirelessPhone            E.164 or a North American number, may be blank
 *   clinicId (ClinicNum)     a clinic of the office; blank or 0: none (texted from the default clinic)
 *   guarantorId (Guarantor)  a patientId in the file or already imported; blank: the patient themself
 *   textOk (TxtMsgOk)        yes / no / unknown (also y, n, true, false, ?; blank: unknown)
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@mikro-orm/knex';
import { parse } from 'csv-parse';
import { chunks, insertRows, rowsOf, selectIn } from '../db/bulk-sql';
import { appendCommlog, COMMLOG_KEYS, type CommlogEntry } from '../db/commlog';
import { optinSuggested, promptForOptinByClinic } from './optin';
import { normalizePhone, phoneMatchKey } from './phone';
import { rematchReplies } from './rematch';
import type { TextOk } from './text-ok';

export interface PatientRecord {
  patientId: number;
  name: string;
  /** E.164, or null. */
  wirelessPhone: string | null;
  phoneKey: string | null;
  clinicId: number | null;
  guarantorId: number;
  textOk: TextOk;
}

export interface RowProblem {
  /** 1-based line of the file (the line where the record ends, for a record spanning lines). */
  line: number;
  field: string | null;
  reason: string;
}

export interface ParsedPatients {
  rows: Array<PatientRecord & { line: number }>;
  problems: RowProblem[];
  /** Data rows seen (header and blank lines not counted). */
  total: number;
}

type Column = 'patientId' | 'name' | 'firstName' | 'lastName' | 'wirelessPhone' | 'clinicId' | 'guarantorId' | 'textOk';

const HEADER_ALIASES: Readonly<Record<string, Column>> = {
  patientid: 'patientId', patnum: 'patientId', id: 'patientId',
  name: 'name', patientname: 'name',
  firstname: 'firstName', fname: 'firstName',
  lastname: 'lastName', lname: 'lastName',
  wirelessphone: 'wirelessPhone', wireless: 'wirelessPhone', cellphone: 'wirelessPhone', mobile: 'wirelessPhone', phone: 'wirelessPhone',
  clinicid: 'clinicId', clinicnum: 'clinicId', clinic: 'clinicId',
  guarantorid: 'guarantorId', guarantor: 'guarantorId',
  textok: 'textOk', txtmsgok: 'textOk',
};

const TEXT_OK: Readonly<Record<string, TextOk>> = {
  yes: 'yes', y: 'yes', true: 'yes',
  no: 'no', n: 'no', false: 'no',
  unknown: 'unknown', '?': 'unknown', '': 'unknown',
};

const MAX_ID = 2_147_483_647;
const MAX_NAME = 200;

function positiveInt(raw: string): number | null {
  if (!/^\d{1,10}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= MAX_ID ? n : null;
}

interface RawRecord {
  record: string[];
  info: { lines: number };
}

/** Parses CSV text into records with their line numbers; syntax errors become problems and parsing goes on. */
function readCsv(text: string): Promise<{ records: RawRecord[]; syntax: RowProblem[] }> {
  const syntax: RowProblem[] = [];
  return new Promise((resolve, reject) => {
    parse(
      text,
      {
        bom: true,
        trim: true,
        skip_empty_lines: true,
        relax_column_count: true,
        info: true,
        skip_records_with_error: true,
        on_skip: (err) => {
          if (err) syntax.push({ line: (err as unknown as { lines?: number }).lines ?? 0, field: null, reason: `not valid CSV (${err.code})` });
          return undefined;
        },
      },
      (err, records) => (err ? reject(err) : resolve({ records: records as unknown as RawRecord[], syntax })),
    );
  });
}

/**
 * `table[key]` only when the table itself has it: a cell or header reading `constructor`,
 * `__proto__` or `toString` must not find Object's own properties (it is a bad value, reported).
 */
function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * Checks a CSV file's rows. `known` tells which clinics are the office's (null: not known yet, any
 * id is taken) and which patientIds exist already (guarantors may name them).
 */
export async function parsePatientsCsv(
  text: string,
  known: { clinicIds: ReadonlySet<number> | null; patientIds: ReadonlySet<number> },
): Promise<ParsedPatients> {
  let parsed: { records: RawRecord[]; syntax: RowProblem[] };
  try {
    parsed = await readCsv(text);
  } catch (err) {
    const lines = (err as { lines?: number }).lines ?? 1;
    return { rows: [], problems: [{ line: lines, field: null, reason: `not valid CSV (${(err as { code?: string }).code ?? 'parse error'})` }], total: 0 };
  }
  const problems: RowProblem[] = [...parsed.syntax];
  const [header, ...records] = parsed.records;
  if (!header) return { rows: [], problems: [{ line: 1, field: null, reason: 'the file is empty: it needs a header row' }], total: 0 };

  const columns = new Map<Column, number>();
  header.record.forEach((h, i) => {
    const col = ownValue(HEADER_ALIASES, h.toLowerCase().replace(/[^a-z?]/g, ''));
    if (!col) {
      problems.push({ line: header.info.lines, field: h.slice(0, 40), reason: 'unknown column' });
      return;
    }
    if (columns.has(col)) problems.push({ line: header.info.lines, field: col, reason: 'column given twice' });
    columns.set(col, i);
  });
  if (!columns.has('patientId')) problems.push({ line: header.info.lines, field: 'patientId', reason: 'required column missing' });
  if (!columns.has('name') && !columns.has('lastName') && !columns.has('firstName')) {
    problems.push({ line: header.info.lines, field: 'name', reason: 'required column missing (name, or firstName and lastName)' });
  }
  if (problems.some((p) => p.line === header.info.lines)) return { rows: [], problems, total: records.length };

  const cell = (r: RawRecord, c: Column): string => {
    const i = columns.get(c);
    return i === undefined ? '' : r.record[i] ?? '';
  };

  const candidates: Array<PatientRecord & { line: number; guarantorGiven: boolean }> = [];
  const seenIds = new Map<number, number>();
  for (const r of records) {
    const line = r.info.lines;
    const bad = (field: string | null, reason: string): void => void problems.push({ line, field, reason });
    const before = problems.length;
    if (r.record.length !== header.record.length) bad(null, `has ${r.record.length} fields, the header has ${header.record.length}`);

    const patientId = positiveInt(cell(r, 'patientId'));
    if (patientId === null) bad('patientId', cell(r, 'patientId') === '' ? 'required' : 'must be a positive integer');
    else if (seenIds.has(patientId)) bad('patientId', `repeats the patientId of line ${seenIds.get(patientId)}`);

    const name = columns.has('name') ? cell(r, 'name') : [cell(r, 'firstName'), cell(r, 'lastName')].filter(Boolean).join(' ');
    if (name === '') bad('name', 'required');
    else if (name.length > MAX_NAME) bad('name', `longer than ${MAX_NAME} characters`);

    const rawPhone = cell(r, 'wirelessPhone');
    const wirelessPhone = rawPhone === '' ? null : normalizePhone(rawPhone);
    if (rawPhone !== '' && wirelessPhone === null) bad('wirelessPhone', 'not a phone number (E.164, or 10 digits North American)');

    const rawClinic = cell(r, 'clinicId');
    let clinicId: number | null = null;
    if (rawClinic !== '' && rawClinic !== '0') {
      clinicId = positiveInt(rawClinic);
      if (clinicId === null) bad('clinicId', 'must be a positive integer (blank or 0: no clinic)');
      else if (known.clinicIds !== null && !known.clinicIds.has(clinicId)) bad('clinicId', `clinic ${clinicId} is not a clinic of this office`);
    }

    const rawGuarantor = cell(r, 'guarantorId');
    const guarantorId = rawGuarantor === '' || rawGuarantor === '0' ? patientId : positiveInt(rawGuarantor);
    if (guarantorId === null && rawGuarantor !== '' && rawGuarantor !== '0') bad('guarantorId', 'must be a positive integer (blank: the patient themself)');

    const textOk = ownValue(TEXT_OK, cell(r, 'textOk').toLowerCase());
    if (textOk === undefined) bad('textOk', 'must be yes, no or unknown');

    if (patientId !== null && !seenIds.has(patientId)) seenIds.set(patientId, line);
    if (problems.length === before && patientId !== null && guarantorId !== null && textOk !== undefined) {
      candidates.push({
        line, patientId, name, wirelessPhone, phoneKey: wirelessPhone === null ? null : phoneMatchKey(wirelessPhone),
        clinicId, guarantorId, textOk, guarantorGiven: guarantorId !== patientId,
      });
    }
  }

  // A guarantor must be a patient: one of the good rows, or one imported before. A bad row takes
  // the rows it guarantees with it (repeat until stable: chains of guarantors are short).
  let rows = candidates;
  for (;;) {
    const good = new Set(rows.map((r) => r.patientId));
    const next = rows.filter((r) => {
      if (!r.guarantorGiven || good.has(r.guarantorId) || known.patientIds.has(r.guarantorId)) return true;
      problems.push({
        line: r.line,
        field: 'guarantorId',
        reason: seenIds.has(r.guarantorId) ? `guarantor ${r.guarantorId} is on a bad row (line ${seenIds.get(r.guarantorId)})` : `guarantor ${r.guarantorId} is not a patient in this file or the database`,
      });
      return false;
    });
    if (next.length === rows.length) break;
    rows = next;
  }
  problems.sort((a, b) => a.line - b.line);
  return { rows: rows.map(({ guarantorGiven: _g, ...r }) => r), problems, total: records.length };
}

export interface ImportResult {
  inserted: number;
  updated: number;
  /** Existing patients whose Text OK the file changed (each has a commlog row). */
  textOkChanged: number;
  /** Patients whose opt-in the import suggests (Prompt for OptIn, optin.ts). */
  optinSuggested: number;
  /** Replies that now belong to another patient (matched again after the import). */
  rematched: number;
}

/** The name as the name-prefix search compares it. */
export function nameKeyOf(name: string): string {
  return name.toLowerCase();
}

interface ExistingPatient {
  patient_id: number;
  phone_key: string | null;
  clinic_id: number | null;
  guarantor_id: number;
  text_ok: TextOk;
}

/**
 * Upserts patients by patientId in one transaction, with what a change to patients brings (as
 * PUT /api/patients/:id does, patient-edit.ts): a commlog row per Text OK changed, the opt-in
 * suggestion where the clinic prompts for it, and the replies of the numbers concerned matched
 * again.
 */
export async function upsertPatients(knex: Knex, rows: readonly PatientRecord[], now: number = Date.now()): Promise<ImportResult> {
  return knex.transaction(async (trx) => {
    const existing = new Map<number, ExistingPatient>();
    for (const r of await selectIn<ExistingPatient>(trx,
      'SELECT patient_id, phone_key, clinic_id, guarantor_id, text_ok FROM patients WHERE patient_id IN {in}', rows.map((r) => r.patientId))) {
      existing.set(Number(r.patient_id), r);
    }
    await insertRows(
      trx,
      'patients',
      ['patient_id', 'name', 'name_key', 'wireless_phone', 'phone_key', 'clinic_id', 'guarantor_id', 'text_ok', 'updated_at'],
      rows.map((r) => [r.patientId, r.name, nameKeyOf(r.name), r.wirelessPhone, r.phoneKey, r.clinicId, r.guarantorId, r.textOk, now]),
      `ON CONFLICT (patient_id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, wireless_phone = excluded.wireless_phone,
         phone_key = excluded.phone_key, clinic_id = excluded.clinic_id, guarantor_id = excluded.guarantor_id, text_ok = excluded.text_ok,
         updated_at = excluded.updated_at`,
    );

    const change = `import:${now}:${randomUUID()}`;
    const prompt = await promptForOptinByClinic(trx);
    const log: CommlogEntry[] = [];
    const suggested: number[] = [];
    const rematchKeys = new Set<string | null>();
    for (const r of rows) {
      const before = existing.get(r.patientId);
      if (before && before.text_ok !== r.textOk) {
        log.push({
          eventKey: COMMLOG_KEYS.textOkByOffice(change, r.patientId), at: now, kind: 'text_ok_changed', patientId: r.patientId, clinicId: r.clinicId,
          phone: r.wirelessPhone, summary: `Text OK changed from ${before.text_ok} to ${r.textOk} by a patients import`,
        });
      }
      if (optinSuggested(before ? { phoneKey: before.phone_key, textOk: before.text_ok } : null, { phoneKey: r.phoneKey, textOk: r.textOk }, prompt(r.clinicId))) {
        suggested.push(r.patientId);
      }
      const beforeClinic = before?.clinic_id == null ? null : Number(before.clinic_id);
      if (!before || before.phone_key !== r.phoneKey || beforeClinic !== r.clinicId || Number(before.guarantor_id) !== r.guarantorId) {
        rematchKeys.add(before?.phone_key ?? null);
        rematchKeys.add(r.phoneKey);
      }
    }
    for (const part of chunks(suggested)) {
      await trx.raw(`UPDATE patients SET optin_status = ?, optin_at = ?, optin_guid = NULL WHERE patient_id IN (${part.map(() => '?').join(', ')})`,
        ['suggested', now, ...part]);
    }
    await appendCommlog(trx, log);
    const rematched = await rematchReplies(trx, rematchKeys, change, now);
    return {
      inserted: rows.length - existing.size, updated: existing.size, textOkChanged: log.length, optinSuggested: suggested.length, rematched,
    };
  });
}

/** The office's clinics (null when HQ's account was never synced: then any id is taken). */
export async function knownClinicIds(knex: Knex | Knex.Transaction): Promise<Set<number> | null> {
  const clinics = rowsOf<{ clinic_id: number }>(await knex.raw('SELECT clinic_id FROM clinics WHERE in_account = ?', [true]));
  return clinics.length === 0 ? null : new Set(clinics.map((c) => Number(c.clinic_id)));
}

/** What the import checks rows against: the office's clinics (null when HQ's account was never synced) and existing patients. */
export async function knownIds(knex: Knex): Promise<{ clinicIds: Set<number> | null; patientIds: Set<number> }> {
  const patients = rowsOf<{ patient_id: number }>(await knex.raw('SELECT patient_id FROM patients'));
  return {
    clinicIds: await knownClinicIds(knex),
    patientIds: new Set(patients.map((p) => Number(p.patient_id))),
  };
}

/** Checks and imports a CSV file's text: nothing is written when a row is bad, unless `skipBadRows`. */
export async function importPatientsCsv(
  knex: Knex,
  text: string,
  opts: { skipBadRows?: boolean; dryRun?: boolean } = {},
): Promise<ParsedPatients & { imported: ImportResult | null }> {
  const parsed = await parsePatientsCsv(text, await knownIds(knex));
  const blocked = parsed.problems.length > 0 && !opts.skipBadRows;
  if (blocked || opts.dryRun || parsed.rows.length === 0) return { ...parsed, imported: null };
  return { ...parsed, imported: await upsertPatients(knex, parsed.rows) };
}
