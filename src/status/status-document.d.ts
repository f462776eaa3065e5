/**
 * The /status document (docs/texting-services.md, "The usage grid"), as the status server builds it (usage-report.ts) and its
 * readers use it (the status CLI, the Texting Services page). A declaration file with no imports,
 * so the page's separate browser build can share it: nothing of it is emitted.
 */

export interface ClinicUsage {
  clinicId: number;
  name: string | null;
  isDefault: boolean;
  subscribed: boolean;
  primaryPhone: string | null;
  countryCode: string | null;
  sentCount: number;
  sentChargesUsd: string;
  receivedCount: number;
  receivedChargesUsd: string;
  /** Replies not yet read (hidden and blocked ones left out), now: not a figure of the month. Additive: an older connector has none. */
  unreadCount?: number;
}

export interface StatusDocument {
  /** 'YYYY-MM' in the office's time zone. */
  month: string;
  timezone: string;
  limitUsd: string | null;
  overLimit: boolean;
  defaultClinicId: number | null;
  totals: { sentCount: number; sentChargesUsd: string; receivedCount: number; receivedChargesUsd: string; chargesUsd: string; unreadCount?: number };
  clinics: ClinicUsage[];
  econnector: {
    lastReceiptsPollAt: string | null;
    lastInboundPollAt: string | null;
    lastAccountSyncAt: string | null;
    aggregatesComputedAt: string | null;
    quarantined: number;
    /** True while HQ answers `more` on a stream (a backlog is draining). Additive: absent from an older connector. */
    catchingUp?: boolean;
    /** Items a second the draining streams record together; 0 when not catching up. */
    itemsPerSecond?: number;
  };
}

/** One month of GET /status/history: every clinic together. */
export interface HistoryMonth {
  month: string;
  sentCount: number;
  sentChargesUsd: string;
  receivedCount: number;
  receivedChargesUsd: string;
  chargesUsd: string;
  overLimit: boolean;
}

/** GET /status/history?months=N: the last N months, oldest first, against today's limit. */
export interface UsageHistory {
  timezone: string;
  limitUsd: string | null;
  months: HistoryMonth[];
}
