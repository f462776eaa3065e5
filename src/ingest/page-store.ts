/**
 * The one way a page reaches the database. The drain (drain.ts) hands each validated page to a
 * PageStore and acknowledges to HQ exactly the ids the outcome names, and only after the promise
 * resolves (the page's transaction has committed). One implementation per database engine,
 * chosen once at start-up (open-page-store.ts): page-store-sqlite.ts and page-store-postgres.ts.
 * Both decide with the same pure functions (page-merge.ts) and write the same rows (page-sql.ts).
 *
 * A store records a page in ONE transaction: its valid items as idempotent upserts keyed by their
 * ids, its bad items in quarantine, the clinics it names, the stream's progress, and the exact
 * usage deltas of what changed. A page with no item at all is still a good poll (readiness judges
 * the age of the last one). A rejected promise means nothing of the page is stored.
 */
import type { ValidInbound, ValidReceipt, QuarantineEntry } from '../hq/items';

export interface ReceiptsPage {
  receipts: readonly ValidReceipt[];
  quarantined: readonly QuarantineEntry[];
  /** The recording instant (recorded_at, stream progress). */
  now: number;
}

export interface InboundPage {
  messages: readonly ValidInbound[];
  quarantined: readonly QuarantineEntry[];
  now: number;
}

export interface PageOutcome {
  /** Items newly stored (not seen before). */
  recorded: number;
  /** Items already stored (redeliveries, or twice in the page). */
  duplicates: number;
  quarantined: number;
  /** Ids to acknowledge to HQ once the transaction has committed. */
  ackIds: string[];
  /** (clinic, month) usage pairs the page updated in place. */
  usagePairs: number;
  /** Office messages this page recorded (automatic HELP and STOP/START replies): queue their sends once committed. */
  sendGuids: string[];
}

export interface PageStore {
  recordReceipts(page: ReceiptsPage): Promise<PageOutcome>;
  recordInbound(page: InboundPage): Promise<PageOutcome>;
  /** Lets a page being recorded finish, then releases what the store holds (not the database itself). */
  close(): Promise<void>;
}
