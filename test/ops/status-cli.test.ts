/**
 * `npm run status`: the usage grid in the terminal, against a running stack (the daemon in this
 * process, the CLI spawned as `node dist/src/cli/status.js`, as npm runs it).
 */
import { rowsOf } from '../../src/db/bulk-sql';
import { COLUMNS, dollars, layout, renderUsage, usageRows } from '../../src/cli/usage-table';
import { checkMonth, parseArgs, statusBaseUrl, UsageError } from '../../src/cli/status';
import type { StatusDocument } from '../support/status-client';
import { fixedPorts } from '../support/ports';
import { killAllTracked } from '../support/processes';
import { generateMonthTraffic, intoMonthOf } from '../support/month-traffic';
import { Deadline, startStack, waitFor, waitForTruth, type TestStack } from '../support/stack';
import { runNode } from './support/daemon-process';

const TZ = 'America/Chicago';
const CLI = 'dist/src/cli/status.js';

describe('usage table (unit)', () => {
  it('formats money as dollars from decimal strings, exactly', () => {
    expect(dollars('12.5')).toBe('$12.50');
    expect(dollars('0.0079')).toBe('$0.0079');
    expect(dollars('50.00')).toBe('$50.00');
    expect(dollars('1234567.000001')).toBe('$1,234,567.000001');
    expect(dollars('0')).toBe('$0.00');
    expect(dollars(null)).toBe('-');
  });

  const doc = (clinics: number): StatusDocument => ({
    month: '2026-11', timezone: TZ, limitUsd: '50.00', overLimit: false, defaultClinicId: 1,
    totals: { sentCount: 1200, sentChargesUsd: '9.48', receivedCount: 4, receivedChargesUsd: '0.0316', chargesUsd: '9.5116' },
    clinics: Array.from({ length: clinics }, (_, i) => ({
      clinicId: i + 1, name: i === 2 ? null : `Clinic ${i + 1}`, isDefault: i === 0, subscribed: i !== 1,
      primaryPhone: i === 2 ? null : `+1503555010${i}`, countryCode: 'US',
      sentCount: 1200 / clinics, sentChargesUsd: '3.16', receivedCount: 1, receivedChargesUsd: '0.0079',
    })),
    econnector: { lastReceiptsPollAt: null, lastInboundPollAt: null, lastAccountSyncAt: null, aggregatesComputedAt: null, quarantined: 0 },
  });

  it('has the columns of the Texting Services window, and a total row only for several clinics', () => {
    expect(COLUMNS).toEqual(['Default', 'Location', 'Subscribed', 'Primary Phone Number', 'Country Code', 'Limit', 'Sent for Month', 'Sent Charges', 'Received for Month', 'Received Charges']);
    expect(usageRows(doc(1))).toHaveLength(1);
    const rows = usageRows(doc(3));
    expect(rows).toHaveLength(4);
    // Each money column shows every amount exactly, with its decimal points lined up.
    expect(rows[0]).toEqual(['X', 'Clinic 1', 'Yes', '+15035550100', 'US', '$50.00', '400', '$3.16', '1', '$0.0079']);
    expect(rows[1]![2]).toBe('No');
    expect(rows[2]![1]).toBe('(clinic 3, not in the account)');
    expect(rows[3]).toEqual(['', 'Total', '', '', '', '$50.00', '1,200', '$9.48', '4', '$0.0316']);
    expect(usageRows({ ...doc(2), totals: { ...doc(2).totals, sentChargesUsd: '6.3248' } }).map((r) => r[7])).toEqual(['$3.1600', '$3.1600', '$6.3248']);
    const lines = layout(COLUMNS, rows, true);
    expect(lines).toHaveLength(2 + 3 + 1 + 1); // header, rule, clinics, rule, total
    expect(lines[0]).toMatch(/^Default {2}Location +Subscribed {2}Primary Phone Number {2}Country Code +Limit {2}Sent for Month {2}Sent Charges {2}Received for Month {2}Received Charges$/);
    // Numbers line up on the right under their headers.
    const at = lines[0]!.indexOf('Received Charges') + 'Received Charges'.length;
    for (const line of [lines[2]!, lines[6]!]) expect(line.length).toBe(at);
    expect(renderUsage({ ...doc(2), overLimit: true })).toContain('LIMIT REACHED');
  });

  it('strips control characters from clinic names before they reach the terminal', () => {
    const hostile = doc(1);
    hostile.clinics[0] = { ...hostile.clinics[0]!, name: 'Main\u001b]0;pwned\u0007 St\u001b[2J\r\n\u202eevil\u0000\u009b' };
    expect(usageRows(hostile)[0]![1]).toBe('Main]0;pwned St[2Jevil');
    expect(renderUsage(hostile)).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  });

  it('parses its options and refuses bad ones with a clear message', () => {
    expect(parseArgs([])).toEqual({ month: null, json: false });
    expect(parseArgs(['--month', '2026-02', '--json'])).toEqual({ month: '2026-02', json: true });
    expect(parseArgs(['--month=2025-12'])).toEqual({ month: '2025-12', json: false });
    expect(parseArgs(['-h'])).toBe('help');
    for (const bad of ['2026-13', '2026-00', '2026-1', '26-11', 'november', '2026-11-01']) expect(() => checkMonth(bad)).toThrow(UsageError);
    expect(() => parseArgs(['--month'])).toThrow('--month needs a value');
    expect(() => parseArgs(['--verbose'])).toThrow('unknown option "--verbose"');
    expect(statusBaseUrl('0.0.0.0', 7380)).toBe('http://127.0.0.1:7380');
    expect(statusBaseUrl('::', 7380)).toBe('http://[::1]:7380');
  });
});

describe('npm run status against a running stack', () => {
  let stack: TestStack;
  let env: Record<string, string>;

  beforeAll(async () => {
    // The clocks 9.5 days into the month under test: this month has a week of settled traffic
    // whatever day (or hour) the suite runs.
    stack = await startStack({ tz: TZ, clockAt: intoMonthOf(TZ), mock: { seed: 3, leaseMs: 3000 } }); // short lease: a timed-out page returns in seconds
    const port = new URL(stack.daemon.statusUrl).port;
    env = { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'test', STATUS_HOST: '127.0.0.1', STATUS_PORT: port, OFFICE_TZ: TZ };
    // The daemon answers the STOP/HELP/START replies of the traffic: a second receipt of such an
    // answer comes 1 s after its first, not the mock's 30 s (see 'nothing more' below).
    await stack.sim('POST', '/sim/config', { secondReceiptDelayMs: 1_000 });
    await generateMonthTraffic(stack, TZ, { previous: { messages: 150, inbound: 30 }, current: { messages: 150, inbound: 30 }, seed: 4 });
    // Everything drained and aggregated: /status equals the mock's truth for every month, so two reads agree.
    const deadline = new Deadline(50_000, 'the stack set-up');
    await waitForTruth(stack, TZ, deadline);
    // And nothing more to come. The truth can be met while an answer of the daemon is still in its
    // outbox (the debounced recompute had not counted it yet, HQ had not received it), and its
    // receipt would then change this month's figures between a test's two reads, on the mock's
    // real-time clock. So: an empty outbox (read first: what HQ accepted by then has its receipts
    // at HQ), nothing pending at HQ, and the truth met again.
    await waitFor('nothing more to come from HQ', async () => {
      const owed = rowsOf<{ n: number | string }>(await stack.daemon.app.db.knex.raw('SELECT COUNT(*) AS n FROM outbox'));
      if (Number(owed[0]!.n) > 0) return false;
      const s = await stack.sim<{ receipts: { pending: number }; inbound: { pending: number } }>('GET', '/sim/stats');
      return s.receipts.pending + s.inbound.pending === 0;
    }, deadline, 250);
    await waitForTruth(stack, TZ, deadline);
    await waitFor('this month\'s usage and the account', async () => {
      const s = await stack.status<StatusDocument>();
      return s.clinics.length > 1 && s.totals.sentCount > 0 && s.econnector.aggregatesComputedAt !== null && s.limitUsd !== null;
    }, deadline);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    expect(await killAllTracked()).toEqual([]);
  });

  it('prints the grid of this month with a total row, in dollars', async () => {
    const doc = await stack.status<StatusDocument>();
    const r = await runNode(CLI, [], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Texting usage for \\w+ \\d{4} \\(${TZ}\\)$`));
    expect(r.stdout).toContain('Primary Phone Number');
    for (const c of doc.clinics) {
      const row = lines.find((l) => l.includes(c.name ?? `(clinic ${c.clinicId},`));
      expect(row).toBeDefined();
      expect(row).toContain(dollars(c.sentChargesUsd));
    }
    const total = lines.find((l) => /^\s+Total\s/.test(l));
    expect(total).toBeDefined();
    expect(total).toContain(dollars(doc.totals.sentChargesUsd));
    expect(total).toContain(dollars(doc.totals.receivedChargesUsd));
    expect(r.stdout).toContain(`Charges for the month: ${dollars(doc.totals.chargesUsd)}; limit $50.00 for all locations together`);
  });

  it('--json prints the status document; --month picks the month', async () => {
    const month = (await stack.status<StatusDocument>()).month;
    const [y, m] = month.split('-').map(Number) as [number, number];
    const previous = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
    const want = await stack.status<StatusDocument>(`/status?month=${previous}`);
    expect(want.totals.sentCount).toBeGreaterThan(0); // a month with traffic: figures really compared
    const r = await runNode(CLI, ['--month', previous, '--json'], env);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as StatusDocument;
    expect(got.month).toBe(previous);
    expect(got.totals).toEqual(want.totals);
    expect(got.clinics).toEqual(want.clinics);
  });

  it('refuses a bad --month with one line and exit code 2', async () => {
    const r = await runNode(CLI, ['--month', '2026-13'], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('econnector status: --month must be YYYY-MM with a month from 01 to 12, e.g. 2026-11 (got "2026-13")\n');
  });

  it('says in one line that the daemon is not running, with exit code 1', async () => {
    // Below the ephemeral range nothing gets a port by chance (ports.ts): nothing answers there.
    const port = await fixedPorts(1);
    const r = await runNode(CLI, [], { ...env, STATUS_PORT: String(port) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`econnector status: econnector is not running: nothing answers at http://127.0.0.1:${port} (start it with npm start, or npx pm2 start ecosystem.config.js)\n`);
  });

  it('names a bad setting in one line, exit code 2', async () => {
    const r = await runNode(CLI, [], { ...env, STATUS_PORT: 'seventy' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("econnector status: STATUS_PORT: 'seventy' is not a port number (1-65535)\n");
  });
});
