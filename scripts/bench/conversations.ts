/**
 * Benchmark 6: text messages at an office's scale. A fresh database (the project's
 * migrations) gets 1,000,000 office texts and 300,000 replies over 30,000 phone numbers, in time
 * order and interleaved, through the daemon's own write paths (insertOfficeMessages, and
 * recordInboundPage one page of 1,000 replies at a time, so the conversations table and the unread
 * counters are kept exactly as in production); a third of the replies are then marked read. The
 * office's routes (src/status/routes/messages.ts) are served by a fastify server on that database
 * and measured with sequential keep-alive requests: the conversation list's first page, a deep
 * page (by its keyset cursor), the unread-only list, a clinic's list, threads of random numbers,
 * and GET /api/inbound/unread. The page-recording times at scale are reported too.
 */
import { rmSync, statSync } from 'node:fs';
import Fastify from 'fastify';
import type { AppContext } from '../../src/daemon/context';
import { insertRows, rowsOf, type SqlValue } from '../../src/db/bulk-sql';
import { openDatabase } from '../../src/db/orm';
import type { ValidInbound } from '../../src/hq/items';
import { mulberry32, randInt } from '../../src/hq-mock/prng';
import { recordInboundPage } from '../../src/ingest/record-inbound';
import { foldPending } from '../../src/office/conversation-fold';
import { markConversationRead } from '../../src/office/replies';
import { insertOfficeMessages, type OfficeMessage } from '../../src/office/send';
import { registerMessagesRoutes } from '../../src/status/routes/messages';
import { MonthBucketer } from '../../src/usage/month';
import { KeepAliveClient, percentile, round } from './util';

export interface ConversationsSpec {
  path: string;
  sent: number;
  replies: number;
  phones: number;
  clinics: number;
  requests: number;
  tz: string;
  log: (line: string) => void;
}

export interface Latency {
  p50: number;
  p99: number;
  max: number;
  requests: number;
}

export interface ConversationsResult {
  sent: number;
  replies: number;
  phones: number;
  buildSeconds: number;
  bytes: number;
  /** recordInboundPage of each 1,000-reply page while the database filled: median, p90, of the last half. */
  pageRecordMs: { p50: number; p90: number; pages: number };
  firstPage: Latency;
  deepPage: Latency & { depth: number };
  unreadList: Latency;
  clinicList: Latency;
  thread: Latency & { messagesPerThread: number };
  unread: Latency;
  correct: boolean;
  problems: string[];
}

const phoneOf = (i: number): string => `+1503${String(2_000_000 + i).padStart(7, '0')}`;

async function measure(client: KeepAliveClient, n: number, path: (i: number) => string): Promise<Latency> {
  for (let i = 0; i < Math.min(100, n); i++) await client.get(path(i)); // warm-up
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await client.get(path(i));
    lat.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`GET ${path(i).split('?')[0]!.slice(0, 20)}… answered ${res.status}`);
  }
  return { p50: round(percentile(lat, 50), 2), p99: round(percentile(lat, 99), 2), max: round(Math.max(...lat), 2), requests: n };
}

export async function runConversations(spec: ConversationsSpec): Promise<ConversationsResult> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(spec.path + suffix, { force: true });
  const db = await openDatabase({ driver: 'sqlite', path: spec.path });
  const months = new MonthBucketer(spec.tz);
  const rng = mulberry32(15);
  const started = performance.now();
  const problems: string[] = [];
  try {
    const knex = db.knex;
    await insertRows(knex, 'clinics', ['clinic_id', 'name', 'subscribed', 'in_account', 'seen_in_traffic', 'updated_at'],
      Array.from({ length: spec.clinics }, (_, c): SqlValue[] => [c + 1, `Clinic ${c + 1}`, true, true, true, 0]), 'ON CONFLICT DO NOTHING');
    // Two of three numbers belong to a patient (replies are matched as in production).
    const patients: SqlValue[][] = [];
    for (let i = 0; i < spec.phones; i++) {
      if (i % 3 === 2) continue;
      const phone = phoneOf(i);
      patients.push([i + 1, `Patient ${i + 1}`, phone, phone.slice(1), 1 + (i % spec.clinics), i + 1, 'yes', 0]);
    }
    for (let s = 0; s < patients.length; s += 2000) {
      await insertRows(knex, 'patients', ['patient_id', 'name', 'wireless_phone', 'phone_key', 'clinic_id', 'guarantor_id', 'text_ok', 'updated_at'], patients.slice(s, s + 2000), 'ON CONFLICT DO NOTHING');
    }

    // Time order over the last 60 days, sends and reply pages interleaved in proportion.
    const batches = Math.ceil(spec.sent / 1000) + Math.ceil(spec.replies / 1000);
    const t0 = Date.now() - 60 * 86_400_000;
    const step = Math.floor((60 * 86_400_000) / (batches * 1000));
    let at = t0;
    let sent = 0;
    let replies = 0;
    let seq = 0;
    const pageMs: number[] = [];
    while (sent < spec.sent || replies < spec.replies) {
      const sendNext = replies >= spec.replies || (sent < spec.sent && sent / spec.sent <= replies / spec.replies);
      if (sendNext) {
        const n = Math.min(1000, spec.sent - sent);
        const batch: OfficeMessage[] = [];
        for (let i = 0; i < n; i++) {
          const p = randInt(rng, 0, spec.phones - 1);
          batch.push({ guid: `bench-${String(sent + i).padStart(8, '0')}`, clinicId: 1 + (p % spec.clinics), patientId: p % 3 === 2 ? null : p + 1, toPhone: phoneOf(p), body: 'Reminder: your appointment is tomorrow at 9:30am. Reply C to confirm.', segments: 1, purpose: null });
        }
        at += step * n;
        await knex.transaction((trx) => insertOfficeMessages(trx, batch, at));
        sent += n;
      } else {
        const n = Math.min(1000, spec.replies - replies);
        const page: ValidInbound[] = [];
        for (let i = 0; i < n; i++) {
          const p = randInt(rng, 0, spec.phones - 1);
          at += step;
          seq += 1;
          page.push({ inboundId: `i-${String(seq).padStart(9, '0')}`, clinicId: 1 + (p % spec.clinics), fromPhone: phoneOf(p), toPhone: '+15035550100', body: 'C', receivedAtMs: at, chargeMicros: 7900, segments: 1 });
        }
        const t = performance.now();
        await recordInboundPage(knex, page, [], months, at);
        pageMs.push(performance.now() - t);
        replies += n;
      }
      if ((sent + replies) % 100_000 < 1000) spec.log(`    ${sent.toLocaleString('en-US')} sent, ${replies.toLocaleString('en-US')} replies`);
    }
    await knex.raw('DELETE FROM outbox');
    // The office has read a third of the numbers' replies.
    for (let p = 0; p < spec.phones; p += 3) {
      await knex.transaction((trx) => markConversationRead(trx, phoneOf(p)));
    }
    // As the daemon's next poll that finds no reply would: what the pages appended is folded (src/office/conversation-fold.ts).
    await foldPending(knex);
    await knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
    const buildSeconds = round((performance.now() - started) / 1000, 1);

    const one = async (sql: string): Promise<number> => Number(Object.values(rowsOf<Record<string, unknown>>(await knex.raw(sql))[0] ?? {})[0] ?? 0);
    const unreadRows = await one('SELECT COUNT(*) FROM inbound_messages WHERE is_read = 0 AND hidden = 0');
    const counted = await one('SELECT COALESCE(SUM(unread), 0) FROM unread_counts');
    const perConversation = await one('SELECT COALESCE(SUM(unread), 0) FROM conversations');
    const conversations = await one('SELECT COUNT(*) FROM conversations');
    const distinctPhones = await one('SELECT COUNT(*) FROM (SELECT from_phone FROM inbound_messages UNION SELECT to_phone FROM outbound_messages WHERE to_phone IS NOT NULL) x');
    if (counted !== unreadRows) problems.push(`unread_counts ${counted} ≠ unread replies ${unreadRows}`);
    if (perConversation !== unreadRows) problems.push(`conversations' unread ${perConversation} ≠ unread replies ${unreadRows}`);
    if (conversations !== distinctPhones) problems.push(`${conversations} conversations ≠ ${distinctPhones} numbers`);

    const server = Fastify({ logger: false });
    const app = { db, logger: { info: () => undefined, warn: () => undefined, error: () => undefined } } as unknown as AppContext;
    await server.register(async (api) => registerMessagesRoutes(api, app, async () => undefined), { prefix: '/api' });
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    const client = new KeepAliveClient(url, 1);
    try {
      const n = spec.requests;
      // A deep page: walk the cursors 60% of the way down the list.
      const depth = Math.floor((conversations / 50) * 0.6);
      let cursor: string | null = null;
      for (let i = 0; i < depth; i++) {
        const page = (await (await fetch(`${url}/api/conversations${cursor ? `?before=${cursor}` : ''}`)).json()) as { next: string | null };
        cursor = page.next;
        if (cursor === null) break;
      }
      const firstPage = await measure(client, n, () => '/api/conversations');
      const deepPage = { ...(await measure(client, n, () => `/api/conversations${cursor ? `?before=${cursor}` : ''}`)), depth };
      const unreadList = await measure(client, n, () => '/api/conversations?unread=true');
      const clinicList = await measure(client, n, (i) => `/api/conversations?clinicId=${1 + (i % spec.clinics)}`);
      const threadPhones = Array.from({ length: n + 100 }, () => encodeURIComponent(phoneOf(randInt(rng, 0, spec.phones - 1))));
      const thread = { ...(await measure(client, n, (i) => `/api/conversations/${threadPhones[i]}`)), messagesPerThread: round((spec.sent + spec.replies) / spec.phones, 0) };
      const unread = await measure(client, n, () => '/api/inbound/unread');
      const half = pageMs.slice(Math.floor(pageMs.length / 2)).sort((a, b) => a - b);
      return {
        sent, replies, phones: spec.phones, buildSeconds, bytes: statSync(spec.path).size,
        pageRecordMs: { p50: round(percentile(half, 50), 1), p90: round(percentile(half, 90), 1), pages: half.length },
        firstPage, deepPage, unreadList, clinicList, thread, unread, correct: problems.length === 0, problems,
      };
    } finally {
      client.close();
      await server.close();
    }
  } finally {
    await db.close();
  }
}
