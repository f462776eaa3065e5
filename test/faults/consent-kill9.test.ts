/**
 * Consent under crashes: STOP and START replies from one number, and kill -9 of the REAL daemon
 * process at the moments that matter for their confirmations: inside the page's transaction,
 * between its commit and its ack (HQ hands the reply out again), and while the confirmation is
 * being handed to HQ (HQ took it, the daemon never heard). After each restart the reply must have
 * been recorded once, its confirmation queued once (the guid derived from the reply's id) and
 * delivered to HQ once, and the commlog must hold each fact once.
 */
import { openDatabase } from '../../src/db/orm';
import { upsertPatients } from '../../src/office/patients';
import { startConfirmationGuid, stopConfirmationGuid } from '../../src/office/uuid';
import { FaultRig, hookHq } from '../support/fault-rig';
import { waitFor } from '../support/stack';
import type { StatusDocument } from '../support/status-client';

type Moment = 'transaction' | 'commit-ack' | 'send';
const PLAN: ReadonlyArray<{ body: string; moment: Moment }> = [
  { body: 'STOP', moment: 'commit-ack' },
  { body: 'START', moment: 'send' },
  { body: 'stop', moment: 'transaction' },
  { body: 'Unstop', moment: 'commit-ack' },
  { body: 'QUIT', moment: 'send' },
];
const PHONE = '+15035550401';

describe('kill -9 of the daemon around a STOP or START and its confirmation', () => {
  let rig: FaultRig | undefined;

  afterAll(async () => {
    const leftovers = await rig?.stop();
    expect(leftovers ?? []).toEqual([]);
  });

  it('records each reply once, and sends its one confirmation once, whatever moment the daemon dies', async () => {
    rig = await FaultRig.start({ mock: { leaseMs: 1500, seed: 16 } });
    const r = rig;
    await r.startDaemon();
    await waitFor('account sync', async () => (await r.status<StatusDocument>()).clinics.length >= 4, 30_000);
    // The patient, imported while the daemon runs (as the import command does).
    const db = await openDatabase({ driver: 'sqlite', path: r.dbPath });
    try {
      await upsertPatients(db.knex, [{ patientId: 7, name: 'Kim Lee', wirelessPhone: PHONE, phoneKey: PHONE.slice(1), clinicId: 1, guarantorId: 7, textOk: 'yes' }]);
    } finally {
      await db.close();
    }
    const posted = (r.mock.hq as unknown as { posted: Map<string, { toPhone: string; body: string }> }).posted;
    const hqMessagesOf = (guid: string): number => {
      let n = 0;
      for (let i = 0; i < r.mock.hq.messages.size; i++) if (r.mock.hq.messages.guidOf(i) === guid) n += 1;
      return n;
    };

    const replies: Array<{ inboundId: string; guid: string; stop: boolean; moment: Moment }> = [];
    for (const step of PLAN) {
      const daemon = r.requireDaemon();
      const killNow = (): void => {
        try {
          process.kill(-daemon.pid, 'SIGKILL');
        } catch {
          /* already dead */
        }
      };
      // Only this test's replies and confirmations come from or go to PHONE; the reply of this step
      // is the one not seen before (its id is known only once /sim/inbound answers, which may be
      // after the daemon fetched it).
      const seenIds = new Set(replies.map((x) => x.inboundId));
      const seenGuids = new Set(replies.map((x) => x.guid));
      const killed = new Promise<void>((resolve) => {
        let struck = false;
        const strike = (delayMs = 0): void => {
          if (struck) return;
          struck = true;
          const go = (): void => {
            killNow();
            resolve();
          };
          // At once means before the hooked HQ call returns: the daemon never gets HQ's answer.
          if (delayMs === 0) go();
          else setTimeout(go, delayMs);
        };
        const unhook = hookHq(r.mock, {
          page: (stream, page) => {
            if (step.moment === 'transaction' && stream === 'inbound' && page.json.includes(PHONE)) strike(2);
          },
          beforeAck: (stream, ids) => {
            if (step.moment !== 'commit-ack' || stream !== 'inbound' || !ids.some((id) => !seenIds.has(id)) || struck) return true;
            strike(); // committed; the ack never reaches HQ
            return false;
          },
        });
        // 'send': HQ takes the confirmation, and the daemon dies before it hears the answer.
        const postMessage = r.mock.hq.postMessage;
        r.mock.hq.postMessage = function hooked(this: typeof r.mock.hq, req) {
          const answer = postMessage.call(this, req);
          if (step.moment === 'send' && req.toPhone === PHONE && !seenGuids.has(req.guid)) strike();
          return answer;
        };
        void daemon.exited.then(() => {
          unhook();
          r.mock.hq.postMessage = postMessage;
        });
      });
      const { inboundId } = await r.sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId: 1, fromPhone: PHONE, body: step.body });
      const stop = /^(stop|quit)$/i.test(step.body);
      const guid = stop ? stopConfirmationGuid(inboundId) : startConfirmationGuid(inboundId);
      replies.push({ inboundId, guid, stop, moment: step.moment });
      await killed;
      await r.kill9();
      expect(r.ackedButNotStored()).toEqual([]);
      // The kill landed where it was aimed.
      const stored = r.withDb((d) => d.prepare('SELECT COUNT(*) FROM inbound_messages WHERE inbound_id = ?').pluck().get(inboundId));
      const accepted = r.withDb((d) => d.prepare('SELECT accepted_at FROM outbound_messages WHERE guid = ?').pluck().get(guid));
      if (step.moment === 'commit-ack') expect({ moment: step.moment, stored }).toEqual({ moment: step.moment, stored: 1 });
      if (step.moment === 'send') {
        expect({ moment: step.moment, atHq: posted.has(guid), accepted: accepted ?? null }).toEqual({ moment: step.moment, atHq: true, accepted: null });
      }
      await r.startDaemon();
      // After the restart: the reply acknowledged, and its confirmation accepted by HQ (the
      // outbox sweep queues again a send whose job died with the daemon).
      await waitFor(`${step.body} (${step.moment}) recorded, acknowledged and confirmed`, async () => {
        const s = await r.stats();
        const accepted = r.withDb((d) => d.prepare('SELECT accepted_at FROM outbound_messages WHERE guid = ?').pluck().get(guid));
        return s.inbound.available === 0 && s.inbound.leased === 0 && accepted != null;
      }, 120_000, 200);
    }

    // Each reply once; one confirmation per reply, with its derived guid, once at HQ, with the words owed.
    expect(r.duplicates()).toEqual({ receipts: 0, inbound: 0, quarantine: 0 });
    const confirmations = r.withDb((d) => d.prepare(
      "SELECT guid, purpose, body FROM outbound_messages WHERE to_phone = ? AND purpose IN ('stop_confirmation', 'start_confirmation') ORDER BY sent_at, guid").all(PHONE)) as
      Array<{ guid: string; purpose: string; body: string }>;
    expect(confirmations.map((c) => c.guid).sort()).toEqual(replies.map((x) => x.guid).sort());
    for (const x of replies) {
      const c = confirmations.find((row) => row.guid === x.guid)!;
      expect({ moment: x.moment, purpose: c.purpose }).toEqual({ moment: x.moment, purpose: x.stop ? 'stop_confirmation' : 'start_confirmation' });
      expect(hqMessagesOf(x.guid)).toBe(1);
      expect(posted.get(x.guid)?.body).toBe(c.body);
      expect(c.body).toBe(x.stop
        ? 'Your Dentist: you are unsubscribed and will get no more texts. Reply START to resubscribe.'
        : 'Your Dentist: you are resubscribed. Reply STOP to opt out.');
    }
    // The commlog: each fact once, however often the replies were handed out and the daemon died.
    const facts = r.withDb((d) => d.prepare(
      `SELECT kind, COUNT(*) AS n FROM commlog WHERE inbound_id IN (${replies.map(() => '?').join(', ')}) OR guid IN (${replies.map(() => '?').join(', ')})
        GROUP BY kind ORDER BY kind`).all(...replies.map((x) => x.inboundId), ...replies.map((x) => x.guid))) as Array<{ kind: string; n: number }>;
    const stops = replies.filter((x) => x.stop).length;
    expect(facts).toEqual([
      { kind: 'opt_in', n: replies.length - stops },
      { kind: 'opt_out', n: stops },
      { kind: 'reply_received', n: replies.length },
      { kind: 'text_ok_changed', n: replies.length },
      { kind: 'text_sent', n: replies.length },
    ]);
    const eventKeys = r.withDb((d) => d.prepare('SELECT COUNT(*) - COUNT(DISTINCT event_key) AS d FROM commlog').pluck().get());
    expect(eventKeys).toBe(0);
    // The last reply was a STOP: the number is opted out and the patient's Text OK is No.
    expect(r.withDb((d) => d.prepare('SELECT text_ok FROM patients WHERE patient_id = 7').pluck().get())).toBe('no');
  }, 600_000);
});
