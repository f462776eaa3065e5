/**
 * The text-message documents of the office API (GET /api/conversations, GET
 * /api/conversations/:phone, PUT /api/inbound/:inboundId, GET /api/inbound/unread, GET
 * /api/blocked; docs/text-messages.md) as the status server sends them and the page reads them.
 * A declaration file with no imports, so the page's separate browser build shares it: nothing of
 * it is emitted. The server's own row types (conversation-queries.ts) are these with instants in
 * epoch ms and money in micro-dollars, and the OpenAPI schemas (src/status/openapi/schemas.ts)
 * are checked against these at compile time.
 */

/** One conversation of the list: one per phone number. */
export interface ConversationJson {
  /** E.164. */
  phone: string;
  /** The patient of the latest message, when it has one. */
  patientId: number | null;
  patientName: string | null;
  clinicId: number;
  /** ISO 8601 UTC: the latest message's time. */
  lastAt: string;
  lastDirection: 'in' | 'out';
  lastBody: string | null;
  /** Unread replies in the conversation. */
  unread: number;
  blocked: boolean;
}

export interface ConversationsPage {
  conversations: ConversationJson[];
  /** The `before` of the next page; null on the last. */
  next: string | null;
}

/** A text sent to the number (by the office, or by the connector itself: a HELP answer, ...). */
export interface SentInThreadJson {
  direction: 'out';
  guid: string;
  /** ISO 8601 UTC: when it was sent. */
  at: string;
  clinicId: number;
  body: string | null;
  status: string;
  segments: number | null;
  /** US dollars as a decimal string; null until its receipt brings the charge. */
  chargeUsd: string | null;
  /** 'office', or what the connector sent it for (help_reply, ...). */
  origin: string;
  patientId: number | null;
  failureReason: string | null;
}

/** A reply received from the number. */
export interface ReceivedInThreadJson {
  direction: 'in';
  inboundId: string;
  /** ISO 8601 UTC: when HQ received it. */
  at: string;
  clinicId: number;
  body: string;
  read: boolean;
  hidden: boolean;
  patientId: number | null;
  /** How many patients the number matched when the reply was recorded. */
  matchCount: number | null;
  segments: number;
  keyword: string | null;
}

export type ThreadMessageJson = SentInThreadJson | ReceivedInThreadJson;

/** A patient whose wireless number is the conversation's. */
export interface PatientMatch {
  patientId: number;
  name: string;
  clinicId: number | null;
  textOk: string;
}

export interface ThreadDocument {
  phone: string;
  patients: PatientMatch[];
  /** Oldest first within the page. */
  messages: ThreadMessageJson[];
  /** The `before` of the page of older messages; null when this page reaches the first. */
  next: string | null;
}

export interface UnreadDocument {
  total: number;
  /** Clinic id (as a string key) to its unread replies; clinics with none are left out. */
  byClinic: Record<string, number>;
}

export interface BlockedJson {
  phone: string;
  /** ISO 8601 UTC. */
  blockedAt: string;
}
