/**
 * Redaction proven on REAL daemon output, not on a hand-made logger: a whole stack runs at debug
 * level with traffic whose replies carry known bodies and phone numbers (some bodies holding
 * phone numbers themselves), malformed items (quarantined verbatim in the database) and HQ faults
 * (so error paths log too). Then every phone number and body the database holds is looked for in
 * every line the daemon wrote: none may appear at info or above, and no phone number at any level.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { FaultRig } from '../support/fault-rig';
import { Deadline, startStack, waitFor, type TestStack } from '../support/stack';

const SEVERE = new Set(['error', 'warn', 'info']);

describe('no patient data in the daemon\'s logs', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ env: { LOG_LEVEL: 'debug' }, mock: { leaseMs: 1500, seed: 13 }, config: { hq: { pageSize: 40, backoff: { baseMs: 50, maxMs: 500 }, timeoutMs: 3000 } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('at info and above, no body and no phone number; below, phones still masked', async () => {
    const tag = randomUUID().slice(0, 8);
    const injected: Array<{ fromPhone: string; body: string }> = [];
    for (let i = 0; i < 12; i++) {
      const fromPhone = `+1971555${String(1000 + i)}`;
      const body = `Secret reply ${tag}-${i}: my new cell is (971) 555-${String(2000 + i)}, pain in tooth #${i}`;
      injected.push({ fromPhone, body });
      await stack.sim('POST', '/sim/inbound', { clinicId: 1 + (i % 3), fromPhone, body });
    }
    // Faults make jobs fail and log errors; malformed items go to quarantine.
    await stack.sim('POST', '/sim/faults', { rates: { http500: 0.15, truncatedJson: 0.1, lostAck: 0.1 }, seed: 4 });
    const now = stack.now(); // the mock's clock: traffic is placed in its time
    await stack.sim('POST', '/sim/traffic', { messages: 300, inbound: 300, malformed: 8, from: new Date(now - 30 * 86_400_000).toISOString(), to: new Date(now - 3_600_000).toISOString(), seed: 8 });
    await waitFor('HQ to be drained', async () => {
      const s = await stack.sim<{ receipts: { available: number; leased: number }; inbound: { available: number; leased: number } }>('GET', '/sim/stats');
      return s.receipts.available + s.receipts.leased <= 1 && s.inbound.available + s.inbound.leased <= 1;
    }, 60_000, 250);
    await stack.sim('POST', '/sim/faults', { rates: {} });

    // The secrets: every phone and body the database received, replies and quarantined items alike.
    const knex = stack.daemon.app.db.knex;
    const inbound = rowsOf<{ from_phone: string; to_phone: string; body: string }>(await knex.raw('SELECT from_phone, to_phone, body FROM inbound_messages'));
    const quarantined = rowsOf<{ raw: string }>(await knex.raw('SELECT raw FROM quarantine'));
    expect(inbound.length).toBeGreaterThanOrEqual(300);
    for (const inj of injected) expect(inbound.some((m) => m.body === inj.body && m.from_phone === inj.fromPhone)).toBe(true);
    expect(quarantined.length).toBeGreaterThan(0);

    const phones = new Set<string>();
    const bodies = new Set<string>();
    for (const m of inbound) {
      phones.add(m.from_phone);
      bodies.add(m.body);
    }
    for (const q of quarantined) {
      const raw = JSON.parse(q.raw) as Record<string, unknown>;
      if (typeof raw.fromPhone === 'string') phones.add(raw.fromPhone);
      if (typeof raw.body === 'string') bodies.add(raw.body);
    }
    // Phones in their E.164 form and as bare national digits; bodies long enough to be telling
    // (a two-letter 'OK' matches too much unrelated text to mean anything).
    const phoneForms = [...phones].flatMap((p) => [p, p.replace(/^\+1/, '')]);
    const telling = [...bodies].filter((b) => b.length >= 8);
    const inBodyPhones = injected.flatMap((_, i) => [`555-${2000 + i}`, `(971) 555-${2000 + i}`]);

    const lines = stack.logs;
    const severe = lines.filter((l) => SEVERE.has(String(l.level)));
    const debug = lines.filter((l) => !SEVERE.has(String(l.level)));
    // The run logged on every path that matters: records at info, faults at warn, detail at debug.
    expect(severe.some((l) => l.message === 'job done' && Number(l.recorded ?? 0) > 0)).toBe(true);
    expect(severe.some((l) => l.level === 'warn')).toBe(true);
    expect(debug.length).toBeGreaterThan(0);

    const leaks: string[] = [];
    for (const line of severe) {
      const text = JSON.stringify(line);
      for (const s of [...phoneForms, ...telling, ...inBodyPhones, tag]) if (text.includes(s)) leaks.push(`${line.level} '${String(line.message)}' holds ${JSON.stringify(s)}`);
    }
    for (const line of debug) {
      const text = JSON.stringify(line);
      for (const s of phoneForms) if (text.includes(s)) leaks.push(`${line.level} '${String(line.message)}' holds a phone number`);
    }
    expect(leaks).toEqual([]);
    process.stdout.write(`[ops] redaction: ${lines.length} log lines (${severe.length} at info+) checked against ${phones.size} phones and ${telling.length} bodies\n`);
  }, 90_000);
});

/**
 * The same on the logger the daemon builds for itself: `node dist/src/daemon/main.js` at debug
 * level, with a log file, its stdout, stderr and file all read back. Bodies (some holding phone
 * numbers) must not appear at info or above, phone numbers nowhere.
 */
describe("no patient data in what the real daemon process writes", () => {
  let rig: FaultRig | undefined;
  afterAll(async () => {
    const leftovers = (await rig?.stop()) ?? [];
    expect(leftovers).toEqual([]);
  });

  it('stdout, stderr and the log file: no body at info and above, no phone number at any level', async () => {
    const deadline = new Deadline(80_000);
    const tag = randomUUID().slice(0, 8);
    rig = await FaultRig.start({ mock: { leaseMs: 1500, seed: 19 }, config: { log: { file: 'logs/econnector.log' } } });
    const r = rig;
    const injected: Array<{ fromPhone: string; body: string }> = [];
    for (let i = 0; i < 12; i++) {
      const fromPhone = `+1971555${String(3000 + i)}`;
      const body = `Private note ${tag}-${i}: call me at (971) 555-${String(4000 + i)} about my crown`;
      injected.push({ fromPhone, body });
      await r.sim('POST', '/sim/inbound', { clinicId: 1 + (i % 3), fromPhone, body });
    }
    await r.sim('POST', '/sim/faults', { rates: { http500: 0.15, truncatedJson: 0.1, lostAck: 0.1 }, seed: 5 });
    const now = r.mock.clock.now();
    await r.sim('POST', '/sim/traffic', { messages: 200, inbound: 200, malformed: 6, from: new Date(now - 20 * 86_400_000).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(), seed: 9 });
    const daemon = await r.startDaemon(30_000, { LOG_LEVEL: 'debug' });
    await waitFor('the injected replies to be stored', async () => r.withDb((db) =>
      injected.every((m) => db.prepare('SELECT 1 FROM inbound_messages WHERE from_phone = ? AND body = ?').get(m.fromPhone, m.body) !== undefined)), deadline, 250);
    await r.sim('POST', '/sim/faults', {});
    expect(await r.waitConverged(deadline)).toEqual([]);

    const { phones, bodies } = r.withDb((db) => {
      const rows = db.prepare('SELECT from_phone AS p, body AS b FROM inbound_messages').all() as Array<{ p: string; b: string }>;
      return { phones: new Set(rows.map((x) => x.p)), bodies: new Set(rows.map((x) => x.b)) };
    });
    const phoneForms = [...phones].flatMap((p) => [p, p.replace(/^\+1/, '')]);
    const telling = [...bodies].filter((b) => b.length >= 8);
    const inBodyPhones = injected.flatMap((_, i) => [`555-${4000 + i}`, `(971) 555-${4000 + i}`]);

    const file = join(r.dir, 'logs', 'econnector.log');
    await waitFor('the log file', async () => existsSync(file), deadline, 100);
    const fileLines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const sources: Array<[string, Array<Record<string, unknown>>]> = [['stdout', daemon.logs], ['log file', fileLines]];
    for (const [, lines] of sources) {
      expect(lines.some((l) => l.message === 'job done' && Number(l.recorded ?? 0) > 0)).toBe(true);
      expect(lines.some((l) => l.level === 'debug')).toBe(true);
    }
    const leaks: string[] = [];
    for (const [where, lines] of sources) {
      for (const line of lines) {
        const text = JSON.stringify(line);
        const severe = SEVERE.has(String(line.level));
        for (const s of severe ? [...phoneForms, ...telling, ...inBodyPhones, tag] : phoneForms) {
          if (text.includes(s)) leaks.push(`${where}: ${line.level} '${String(line.message)}' holds ${severe ? JSON.stringify(s) : 'a phone number'}`);
        }
      }
    }
    const stderr = daemon.stderr();
    for (const s of [...phoneForms, ...telling, ...inBodyPhones, tag]) if (stderr.includes(s)) leaks.push(`stderr holds ${JSON.stringify(s)}`);
    expect(leaks).toEqual([]);
    process.stdout.write(`[ops] redaction (daemon process): ${daemon.logs.length} stdout lines, ${fileLines.length} file lines checked against ${phones.size} phones and ${telling.length} bodies\n`);
  }, 90_000);
});
