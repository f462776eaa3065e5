import { renderHistory } from '../../src/cli/history-table';
import { monthsEndingWith } from '../../src/status/usage-history';

describe('econnector status --history', () => {
  it('lists the months oldest first, money exact, the limit under the table', () => {
    const text = renderHistory({
      timezone: 'America/Chicago',
      limitUsd: '5',
      months: [
        { month: '2026-11', sentCount: 1234, sentChargesUsd: '9.1012', receivedCount: 262, receivedChargesUsd: '2.2992', chargesUsd: '11.4004', overLimit: true },
        { month: '2026-12', sentCount: 0, sentChargesUsd: '0', receivedCount: 0, receivedChargesUsd: '0', chargesUsd: '0', overLimit: false },
      ],
    });
    expect(text.split('\n')).toEqual([
      'Texting usage, November 2026 to December 2026 (America/Chicago), all locations',
      '',
      'Month           Sent  Sent Charges  Received  Received Charges   Charges  Limit',
      '-------------  -----  ------------  --------  ----------------  --------  -------',
      'November 2026  1,234       $9.1012       262           $2.2992  $11.4004  REACHED',
      'December 2026      0       $0.0000         0           $0.0000   $0.0000',
      '',
      "Monthly limit (today's, for all locations together): $5.00",
      '',
    ]);
  });

  it('counts months back across a year', () => {
    expect(monthsEndingWith('2026-02', 4)).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(monthsEndingWith('2026-12', 12)[0]).toBe('2026-01');
  });
});
