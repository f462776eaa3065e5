/**
 * Demo mode: a backlog to catch up on, then a trickle of new texts, receipts and replies, so a
 * developer running the daemon against the mock sees usage move. Off unless asked for.
 */
import type { HqState } from './hq';
import { mulberry32 } from './prng';

export interface DemoOptions {
  backlogMessages: number;
  backlogInbound: number;
  backlogDays: number;
  perMinute: number;
}

export interface DemoLogger {
  info(msg: string, meta?: object): void;
}

/** Seeds the backlog and starts the trickle; returns a function that stops it. */
export function startDemo(hq: HqState, demo: DemoOptions, seed: number, log: DemoLogger): () => void {
  const now = hq.now();
  const backlog = hq.generate({
    messages: demo.backlogMessages,
    inbound: demo.backlogInbound,
    from: now - demo.backlogDays * 86_400_000,
    to: now,
    // A few malformed items, so the office's quarantine has something to show.
    malformed: Math.min(4, demo.backlogMessages),
    seed,
  });
  log.info('hq mock demo backlog seeded', {
    messages: backlog.messages,
    receipts: backlog.receipts,
    inbound: backlog.inbound,
    malformed: backlog.malformed.receipts + backlog.malformed.inbound,
    days: demo.backlogDays,
  });
  if (!(demo.perMinute > 0)) return () => undefined;

  // Fractional accumulation: a tick adds however many items the elapsed time is worth, so any
  // rate from 1 a minute to thousands a second comes out right without a timer per item.
  const rng = mulberry32(seed ^ 0xd3e0);
  const tickMs = Math.min(60_000, Math.max(100, Math.round(60_000 / demo.perMinute)));
  let owed = 0;
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    owed += (demo.perMinute * (now - last)) / 60_000;
    last = now;
    for (; owed >= 1; owed--) {
      // Roughly one patient reply for every three texts sent.
      if (rng() < 0.25) hq.receiveLive(rng);
      else hq.sendLive(rng);
    }
  }, tickMs);
  timer.unref(); // the trickle must never keep a process alive on its own
  return () => clearInterval(timer);
}
