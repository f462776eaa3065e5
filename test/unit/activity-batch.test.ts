/**
 * A batch of conversation activity as it is built and stored (src/office/conversation-fold.ts):
 * one entry per number, merged as messages and unread changes are added, in the flat stored form.
 */
import { ActivityBatch, compareActivity, type Direction } from '../../src/office/conversation-fold';
import { mulberry32 } from '../../src/hq-mock/prng';

/** The batch's entries as objects: [key, clinicId, at, direction, ref, unread] each. */
function entries(b: ActivityBatch): Array<{ key: unknown; clinicId: unknown; at: unknown; dir: unknown; ref: unknown; unread: unknown }> {
  const out = [];
  for (let i = 0; i < b.values.length; i += 6) {
    const [key, clinicId, at, dir, ref, unread] = b.values.slice(i, i + 6);
    out.push({ key, clinicId, at, dir, ref, unread });
  }
  return out;
}

describe('ActivityBatch', () => {
  it('keeps one entry per number: its newest message by thread order, its unread changes summed', () => {
    const b = new ActivityBatch();
    b.message('+15035550101', 1, 2000, 'in', 'i-2', 1);
    b.message('+15035550101', 2, 1000, 'in', 'i-1', 1); // older: counted, not the latest
    b.message('+15035550102', 1, 3000, 'in', 'i-9', 1);
    b.message('+15035550102', 2, 3000, 'out', 'g-1', 0); // same instant: 'out' after 'in'
    b.message('+15035550103', 1, 4000, 'in', 'i-b', 0);
    b.message('+15035550103', 2, 4000, 'in', 'i-a', 1); // same instant and direction: the larger id
    expect(b.size).toBe(3);
    expect(entries(b)).toEqual([
      { key: 15035550101, clinicId: 1, at: 2000, dir: 0, ref: 'i-2', unread: 2 },
      { key: 15035550102, clinicId: 2, at: 3000, dir: 1, ref: 'g-1', unread: 1 },
      { key: 15035550103, clinicId: 1, at: 4000, dir: 0, ref: 'i-b', unread: 1 },
    ]);
  });

  it('an unread change alone has no message; a message added after it fills the entry in', () => {
    const b = new ActivityBatch();
    b.unread('+15035550104', -1);
    expect(entries(b)).toEqual([{ key: 15035550104, clinicId: null, at: null, dir: null, ref: null, unread: -1 }]);
    b.message('+15035550104', 3, 5000, 'out', 'g-2', 0);
    b.unread('+15035550104', 2);
    expect(entries(b)).toEqual([{ key: 15035550104, clinicId: 3, at: 5000, dir: 1, ref: 'g-2', unread: 1 }]);
  });

  it('an E.164 number of any length is keyed by the integer of its digits, exactly; anything else by itself', () => {
    const b = new ActivityBatch();
    for (const phone of ['+4915561', '+861234567890123', '+999999999999999', 'legacy-5561', '+0123']) b.unread(phone, 1);
    expect(entries(b).map((e) => e.key)).toEqual([4915561, 861234567890123, 999999999999999, 'legacy-5561', '+0123']);
  });

  it('agrees with compareActivity on any sequence of messages', () => {
    const rnd = mulberry32(42);
    for (let round = 0; round < 200; round++) {
      const b = new ActivityBatch();
      const newest = new Map<string, { at: number; direction: Direction; ref: string; clinicId: number }>();
      const unread = new Map<string, number>();
      for (let i = 0; i < 30; i++) {
        const phone = `+1503555010${Math.floor(rnd() * 4)}`;
        const m = { at: 1000 + Math.floor(rnd() * 3), direction: (rnd() < 0.5 ? 'in' : 'out') as Direction, ref: `r-${Math.floor(rnd() * 3)}`, clinicId: 1 + Math.floor(rnd() * 5) };
        const u = m.direction === 'in' && rnd() < 0.5 ? 1 : 0;
        b.message(phone, m.clinicId, m.at, m.direction, m.ref, u);
        const best = newest.get(phone);
        if (!best || compareActivity(m, best) > 0) newest.set(phone, m);
        unread.set(phone, (unread.get(phone) ?? 0) + u);
      }
      const expected = [...newest].map(([phone, m]) => ({ key: Number(phone.slice(1)), clinicId: m.clinicId, at: m.at, dir: m.direction === 'in' ? 0 : 1, ref: m.ref, unread: unread.get(phone) }));
      const byKey = (x: { key: unknown }, y: { key: unknown }) => Number(x.key) - Number(y.key);
      // Of equal messages (same instant, direction and id) both keep the first.
      expect(entries(b).sort(byKey)).toEqual(expected.sort(byKey));
    }
  });
});
