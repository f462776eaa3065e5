/**
 * The Text Messages view of the page: the office reads, answers and manages patient
 * replies. Plain DOM like app.ts, which starts it (initMessages) and lends it the token handling,
 * so the token is asked for and kept the way the rest of the page does it.
 *
 * Reads (all with the token: they carry patients' numbers and words):
 *   GET /api/inbound/unread (the tab's count, polled every few seconds, so new replies show up
 *   without a reload), GET /api/conversations, GET /api/conversations/:phone, GET /api/blocked,
 *   GET /api/patients (move to patient). GET /status for the clinics' names.
 * Writes: PUT /api/inbound/:id, POST /api/conversations/:phone/read, PUT/DELETE /api/blocked/:phone,
 *   POST /api/messages (the reply: no clinic named, so it goes out from the clinic of the
 *   conversation's latest reply).
 *
 * Without a token the view shows nothing of patients, only how to enter it. Every value goes into
 * the DOM through textContent, never as HTML. Part counts use the send path's own splitter
 * (segments.ts is src/texting/segments.ts).
 */
import type { ConversationJson, ConversationsPage, ReceivedInThreadJson, ThreadDocument, ThreadMessageJson, UnreadDocument } from '../../office/conversation-document';
import { callApi } from './api.js';
import { byId, el } from './dom.js';
import { countSegments, MULTI_PART, SINGLE_PART } from './segments.js';

type Kind = 'ok' | 'info' | 'warn' | 'error';

export interface MessagesDeps {
  token(): string | null;
  askToken(): Promise<string | null>;
  /** Drops a token the connector refused (401). */
  forgetToken(): void;
  say(kind: Kind, text: string): void;
}

interface PatientHit {
  patientId: number;
  name: string;
  wirelessPhone: string | null;
  clinicId: number | null;
}

/** New replies show up within this long (the issue asks for a few seconds). */
export const UNREAD_POLL_MS = 3000;
const MAX_BODY = 1600;

const STATUS_WORDS: Record<string, string> = {
  pending: 'Sending',
  delivered: 'Delivered',
  delivery_unconfirmed: 'Delivery unconfirmed',
  failed_with_charge: 'Failed (charged)',
  failed_no_charge: 'Failed',
  failed: 'Not sent',
};

const ORIGIN_WORDS: Record<string, string> = {
  office: 'sent by the office',
  hq: 'sent from another workstation',
  help_reply: 'automatic HELP answer',
  optin_request: 'opt-in request',
  stop_confirmation: 'STOP confirmation',
  start_confirmation: 'START confirmation',
};

/** The badge's text: the count, capped at "99+". */
export function badgeText(n: number): string {
  return n > 99 ? '99+' : String(n);
}

/** What the reply box says under the text: characters left in the current part, and the parts. */
export function replyCountText(body: string): string {
  const info = countSegments(body);
  const perPart = info.segments <= 1 ? SINGLE_PART[info.encoding] : MULTI_PART[info.encoding];
  const used = info.segments <= 1 ? info.units : info.units - MULTI_PART[info.encoding] * (info.segments - 1);
  const left = Math.max(0, perPart - used);
  const chars = `${body.length} of ${MAX_BODY} characters`;
  return `${left} characters left in this part · ${info.segments} ${info.segments === 1 ? 'part' : 'parts'} (${info.encoding}) · ${chars}`;
}

/** A phone typed in the search box (digits and the usual punctuation, 10 digits or more) is searched as a phone. */
function looksLikePhone(q: string): boolean {
  return /^[+\d\s().-]+$/.test(q) && q.replace(/\D/g, '').length >= 10;
}

export function initMessages(deps: MessagesDeps): void {
  const ui = {
    tabUsage: byId<HTMLButtonElement>('tab-usage'),
    tabMessages: byId<HTMLButtonElement>('tab-messages'),
    badge: byId('unread-badge'),
    view: byId('messages-view'),
    locked: byId('messages-locked'),
    unlock: byId<HTMLButtonElement>('messages-unlock'),
    body: byId('messages-body'),
    clinic: byId<HTMLSelectElement>('conversation-clinic'),
    unreadOnly: byId<HTMLInputElement>('conversation-unread'),
    items: byId<HTMLUListElement>('conversation-items'),
    empty: byId('conversation-empty'),
    more: byId<HTMLButtonElement>('conversation-more'),
    threadHeading: byId('thread-heading'),
    threadPatients: byId('thread-patients'),
    threadActions: byId('thread-actions'),
    threadRead: byId<HTMLButtonElement>('thread-read'),
    threadBlock: byId<HTMLButtonElement>('thread-block'),
    showHidden: byId<HTMLInputElement>('thread-show-hidden'),
    older: byId<HTMLButtonElement>('thread-older'),
    messages: byId<HTMLOListElement>('thread-messages'),
    replyForm: byId<HTMLFormElement>('reply-form'),
    replyBody: byId<HTMLTextAreaElement>('reply-body'),
    replyCount: byId('reply-count'),
    replySend: byId<HTMLButtonElement>('reply-send'),
    moveDialog: byId<HTMLDialogElement>('move-dialog'),
    moveForm: byId<HTMLFormElement>('move-form'),
    moveSearch: byId<HTMLInputElement>('move-search'),
    moveResults: byId<HTMLUListElement>('move-results'),
    moveNone: byId<HTMLButtonElement>('move-none'),
    moveCancel: byId<HTMLButtonElement>('move-cancel'),
  };
  const usageView = document.querySelector('main');
  if (usageView) {
    usageView.id ||= 'usage-view';
    usageView.setAttribute('role', 'tabpanel');
    usageView.setAttribute('aria-labelledby', 'tab-usage');
    ui.tabUsage.setAttribute('aria-controls', usageView.id);
  }

  const state = {
    open: false,
    clinicNames: new Map<number, string>(),
    conversations: [] as ConversationJson[],
    next: null as string | null,
    phone: null as string | null,
    thread: null as ThreadDocument | null,
    blocked: new Set<string>(),
    lastUnread: -1,
    moving: null as string | null,
    listSeq: 0,
    threadSeq: 0,
  };

  const clinicName = (id: number): string => state.clinicNames.get(id) ?? `Clinic ${id}`;
  const when = (iso: string): string => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  /**
   * A request with the token. Without one it asks (when `ask`), else answers null; a 401 drops the
   * token and locks the view; other refusals are said on the message line.
   */
  async function api<T>(method: string, path: string, what: string, body?: unknown, ask = true): Promise<T | null> {
    let t = deps.token();
    if (t === null && ask) t = await deps.askToken();
    if (t === null) {
      if (ask) deps.say('error', `${what} needs the office API token. Nothing was changed.`);
      renderLock();
      return null;
    }
    const reply = await callApi<T>(method, path, t, body);
    if (reply.ok) return reply.body;
    if ('unreachable' in reply) {
      deps.say('error', `${what} failed: the connector did not answer (${reply.unreachable}).`);
      return null;
    }
    const { status, error: answer } = reply;
    if (status === 401) {
      deps.forgetToken();
      renderLock();
      deps.say('error', `${what} refused: the connector did not accept the API token (401). Enter it again to see the text messages.`);
    } else if (status === 403) {
      deps.say('error', `${what} refused: the connector has no API token set (API_TOKEN), so it shows no text messages (403).`);
    } else if (answer.error === 'blocked') {
      deps.say('error', `${what} refused: this number is blocked. Unblock it to text it. Nothing was sent.`);
    } else if (answer.error === 'opted_out') {
      deps.say('error', `${what} refused: the number replied STOP; only a START from it opts it back in. Nothing was sent.`);
    } else {
      deps.say('error', `${what} not done: ${answer.message ?? `the connector answered ${status}`}${answer.field ? ` (field ${answer.field})` : ''}.`);
    }
    return null;
  }

  function renderLock(): void {
    const has = deps.token() !== null;
    ui.locked.hidden = has;
    ui.body.hidden = !has;
    if (!has) {
      // Nothing of patients stays on screen without the token.
      ui.items.replaceChildren();
      ui.messages.replaceChildren();
      ui.threadPatients.textContent = '';
      ui.threadHeading.textContent = 'Select a conversation';
      ui.threadActions.hidden = true;
      ui.replyForm.hidden = true;
      ui.older.hidden = true;
      ui.more.hidden = true;
      state.conversations = [];
      state.thread = null;
      state.phone = null;
      renderBadge(null);
    }
  }

  function renderBadge(total: number | null): void {
    ui.badge.hidden = total === null || total === 0;
    ui.badge.textContent = total === null ? '' : badgeText(total);
    ui.tabMessages.setAttribute('aria-label', total ? `Text Messages, ${total} unread` : 'Text Messages');
  }

  function show(view: 'usage' | 'messages', push = true): void {
    state.open = view === 'messages';
    ui.tabUsage.setAttribute('aria-selected', String(!state.open));
    ui.tabMessages.setAttribute('aria-selected', String(state.open));
    ui.tabUsage.tabIndex = state.open ? -1 : 0;
    ui.tabMessages.tabIndex = state.open ? 0 : -1;
    if (usageView) usageView.hidden = state.open;
    ui.view.hidden = !state.open;
    if (push) history.replaceState(null, '', `${location.pathname}${location.search}${state.open ? '#messages' : ''}`);
    renderLock();
    if (state.open && deps.token() !== null) void reloadAll();
  }

  async function loadClinics(): Promise<void> {
    try {
      const res = await fetch('/status', { cache: 'no-store' });
      const doc = (await res.json()) as { clinics: Array<{ clinicId: number; name: string | null }> };
      state.clinicNames = new Map(doc.clinics.map((c) => [c.clinicId, c.name ?? `Clinic ${c.clinicId} (not in the account)`]));
    } catch {
      return; // names are a nicety: ids still show
    }
    const chosen = ui.clinic.value;
    const options = [el('option', 'All locations')];
    options[0]!.value = '';
    for (const [id, name] of state.clinicNames) {
      const o = el('option', name);
      o.value = String(id);
      options.push(o);
    }
    ui.clinic.replaceChildren(...options);
    ui.clinic.value = chosen;
  }

  async function reloadAll(): Promise<void> {
    await loadClinics();
    await loadBlocked();
    // Not a new first page: a "Load more" clicked while the clinics were read must survive it.
    await refreshConversations();
    if (state.phone) await loadThread(state.phone);
  }

  async function loadBlocked(): Promise<void> {
    const doc = await api<{ blocked: Array<{ phone: string }> }>('GET', '/api/blocked', 'Reading the blocked numbers', undefined, false);
    if (doc) state.blocked = new Set(doc.blocked.map((b) => b.phone));
  }

  function conversationQuery(before: string | null): string {
    const p = new URLSearchParams();
    if (ui.clinic.value) p.set('clinicId', ui.clinic.value);
    if (ui.unreadOnly.checked) p.set('unread', 'true');
    if (before) p.set('before', before);
    const s = p.toString();
    return `/api/conversations${s ? `?${s}` : ''}`;
  }

  /**
   * The list's first page again, for a new filter (append: the next page after the ones shown). A
   * new first page makes any answer still in flight for the old filter stale.
   */
  async function loadConversations(append: boolean): Promise<void> {
    const seq = append ? state.listSeq : ++state.listSeq;
    const doc = await api<ConversationsPage>('GET', conversationQuery(append ? state.next : null), 'Reading the conversations', undefined, false);
    if (!doc || seq !== state.listSeq) return;
    if (append) {
      // A refresh may have landed while this page was on its way: a number shows once.
      const shown = new Set(state.conversations.map((c) => c.phone));
      state.conversations = [...state.conversations, ...doc.conversations.filter((c) => !shown.has(c.phone))];
    } else {
      state.conversations = doc.conversations;
    }
    state.next = doc.next;
    renderConversations();
  }

  /**
   * The list again after something changed under it (a reply came in, the office marked, moved or
   * blocked one): as many pages as are shown, so the pages loaded with "Load more" stay, and a
   * "Load more" still on its way is not thrown away (it is not a new first page).
   */
  async function refreshConversations(): Promise<void> {
    const seq = state.listSeq;
    let list: ConversationJson[] = [];
    let next: string | null = null;
    do {
      const doc: ConversationsPage | null = await api<ConversationsPage>('GET', conversationQuery(next), 'Reading the conversations', undefined, false);
      if (!doc || seq !== state.listSeq) return;
      const have = new Set(list.map((c) => c.phone));
      list = [...list, ...doc.conversations.filter((c) => !have.has(c.phone))];
      next = doc.next;
    } while (next !== null && list.length < state.conversations.length);
    state.conversations = list;
    state.next = next;
    renderConversations();
  }

  function renderConversations(): void {
    const items = state.conversations.map((c) => {
      const li = el('li');
      const b = el('button');
      b.type = 'button';
      b.dataset.phone = c.phone;
      if (c.phone === state.phone) b.setAttribute('aria-current', 'true');
      const who = el('span', c.patientName ?? c.phone, 'who');
      b.append(who);
      if (c.patientName) b.append(' ', el('span', c.phone, 'muted small'));
      if (c.unread > 0) {
        b.append(' ', el('span', badgeText(c.unread), 'badge'));
        b.setAttribute('aria-label', `${c.patientName ?? c.phone}, ${c.unread} unread`);
      }
      if (c.blocked) b.append(' ', el('span', 'Blocked', 'muted small'));
      const last = c.blocked ? 'Blocked number' : `${c.lastDirection === 'in' ? '' : 'You: '}${c.lastBody ?? ''}`;
      b.append(el('span', `${when(c.lastAt)} · ${clinicName(c.clinicId)} · ${last}`, 'last'));
      b.addEventListener('click', () => void openThread(c.phone));
      li.append(b);
      return li;
    });
    ui.items.replaceChildren(...items);
    ui.empty.hidden = items.length > 0;
    ui.more.hidden = state.next === null;
  }

  async function openThread(phone: string): Promise<void> {
    state.phone = phone;
    ui.replyBody.value = '';
    renderReplyCount();
    for (const b of ui.items.querySelectorAll<HTMLButtonElement>('button')) {
      if (b.dataset.phone === phone) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
    await loadThread(phone);
    ui.replyBody.focus();
  }

  async function loadThread(phone: string, older = false): Promise<void> {
    const seq = ++state.threadSeq;
    const before = older && state.thread?.next ? `?before=${encodeURIComponent(state.thread.next)}` : '';
    const doc = await api<ThreadDocument>('GET', `/api/conversations/${encodeURIComponent(phone)}${before}`, 'Reading the conversation', undefined, false);
    if (!doc || seq !== state.threadSeq || state.phone !== phone) return;
    state.thread = older && state.thread ? { ...doc, messages: [...doc.messages, ...state.thread.messages] } : doc;
    renderThread();
  }

  function renderThread(): void {
    const t = state.thread;
    if (!t) return;
    const names = t.patients.map((p) => `${p.name} (patient ${p.patientId}${p.clinicId ? `, ${clinicName(p.clinicId)}` : ''})`);
    ui.threadHeading.textContent = t.patients.length === 1 ? `${t.patients[0]!.name} · ${t.phone}` : t.phone;
    ui.threadPatients.textContent = names.length === 0 ? 'No patient has this number.' : `Patients with this number: ${names.join('; ')}`;
    ui.threadActions.hidden = false;
    ui.replyForm.hidden = false;
    const blocked = state.blocked.has(t.phone);
    ui.threadBlock.textContent = blocked ? 'Unblock number' : 'Block number';
    ui.replySend.disabled = blocked;
    ui.older.hidden = t.next === null;
    const hiddenCount = t.messages.filter((m) => m.direction === 'in' && m.hidden).length;
    ui.showHidden.nextElementSibling!.textContent = `Show hidden replies (${hiddenCount})`;
    const shown = t.messages.filter((m) => ui.showHidden.checked || m.direction === 'out' || !m.hidden);
    ui.messages.replaceChildren(...shown.map(renderMessage));
  }

  function renderMessage(m: ThreadMessageJson): HTMLLIElement {
    const li = el('li');
    if (m.direction === 'out') {
      li.className = 'out';
      li.dataset.guid = m.guid;
      const status = STATUS_WORDS[m.status] ?? m.status;
      const parts = m.segments === null ? '' : ` · ${m.segments} ${m.segments === 1 ? 'part' : 'parts'}`;
      const charge = m.chargeUsd === null ? '' : ` · $${m.chargeUsd}`;
      li.append(el('span', `${when(m.at)} · ${clinicName(m.clinicId)} · ${ORIGIN_WORDS[m.origin] ?? m.origin}`, 'meta'));
      li.append(el('p', m.body ?? '(text not kept)', 'text'));
      const st = el('span', `${status}${parts}${charge}${m.failureReason ? ` (${m.failureReason})` : ''}`, 'meta status');
      li.append(st);
      return li;
    }
    li.dataset.inboundId = m.inboundId;
    li.className = ['in', m.read ? '' : 'unread', m.hidden ? 'hidden-reply' : ''].filter(Boolean).join(' ');
    const flags = [m.read ? 'Read' : 'Unread', m.hidden ? 'Hidden' : '', m.keyword ? m.keyword.toUpperCase() : ''].filter(Boolean).join(' · ');
    const patient = m.patientId === null ? (m.matchCount && m.matchCount > 1 ? `${m.matchCount} patients match: none chosen` : 'no patient') : (state.thread?.patients.find((p) => p.patientId === m.patientId)?.name ?? `patient ${m.patientId}`);
    li.append(el('span', `${when(m.at)} · to ${clinicName(m.clinicId)} · ${patient} · ${flags}`, 'meta'));
    li.append(el('p', m.body, 'text'));
    const controls = el('div', undefined, 'controls');
    const readBtn = el('button', m.read ? 'Mark unread' : 'Mark read');
    readBtn.type = 'button';
    readBtn.addEventListener('click', () => void changeReply(m.inboundId, { read: !m.read }, m.read ? 'Marked unread.' : 'Marked read.'));
    const hideBtn = el('button', m.hidden ? 'Unhide' : 'Hide');
    hideBtn.type = 'button';
    hideBtn.addEventListener('click', () => void changeReply(m.inboundId, { hidden: !m.hidden }, m.hidden ? 'The reply is shown again.' : 'The reply is hidden.'));
    const moveBtn = el('button', 'Move to patient…');
    moveBtn.type = 'button';
    moveBtn.addEventListener('click', () => openMove(m.inboundId));
    controls.append(readBtn, hideBtn, moveBtn);
    li.append(controls);
    return li;
  }

  async function changeReply(inboundId: string, change: { read?: boolean; hidden?: boolean; patientId?: number | null }, done: string): Promise<void> {
    const updated = await api<ReceivedInThreadJson>('PUT', `/api/inbound/${encodeURIComponent(inboundId)}`, 'Changing the reply', change);
    if (!updated) return;
    deps.say('ok', done);
    await refreshAfterChange();
  }

  async function refreshAfterChange(): Promise<void> {
    await pollUnread();
    await refreshConversations();
    if (state.phone) await loadThread(state.phone);
  }

  // ---- move to patient ----
  function openMove(inboundId: string): void {
    state.moving = inboundId;
    ui.moveSearch.value = '';
    ui.moveResults.replaceChildren();
    ui.moveDialog.showModal();
    ui.moveSearch.focus();
  }

  let searchTimer: number | undefined;
  let searchSeq = 0;
  async function search(): Promise<void> {
    const q = ui.moveSearch.value.trim();
    const seq = ++searchSeq;
    if (q === '') {
      ui.moveResults.replaceChildren();
      return;
    }
    const param = looksLikePhone(q) ? `phone=${encodeURIComponent(q)}` : `q=${encodeURIComponent(q)}`;
    const doc = await api<{ patients: PatientHit[] }>('GET', `/api/patients?${param}&limit=20`, 'Searching the patients', undefined, false);
    if (!doc || seq !== searchSeq) return;
    if (doc.patients.length === 0) {
      ui.moveResults.replaceChildren(el('li', 'No patient found.', 'muted'));
      return;
    }
    ui.moveResults.replaceChildren(...doc.patients.map((p) => {
      const li = el('li');
      const b = el('button', `${p.name} · patient ${p.patientId}${p.wirelessPhone ? ` · ${p.wirelessPhone}` : ''}${p.clinicId ? ` · ${clinicName(p.clinicId)}` : ''}`);
      b.type = 'button';
      b.addEventListener('click', () => void move(p.patientId, p.name));
      li.append(b);
      return li;
    }));
  }

  async function move(patientId: number | null, name: string | null): Promise<void> {
    const id = state.moving;
    ui.moveDialog.close();
    state.moving = null;
    if (id === null) return;
    await changeReply(id, { patientId }, patientId === null ? 'The reply is assigned to no patient.' : `The reply is moved to ${name}.`);
  }

  // ---- reply ----
  function renderReplyCount(): void {
    ui.replyCount.textContent = replyCountText(ui.replyBody.value);
  }

  async function sendReply(): Promise<void> {
    const phone = state.phone;
    const body = ui.replyBody.value;
    if (!phone) return;
    if (body.trim() === '') {
      deps.say('error', 'The reply is empty: type the text first. Nothing was sent.');
      ui.replyBody.focus();
      return;
    }
    ui.replySend.disabled = true;
    try {
      const sent = await api<{ guid: string; clinicId: number; segments: number }>('POST', '/api/messages', 'Sending the reply', { toPhone: phone, body });
      if (!sent) return;
      ui.replyBody.value = '';
      renderReplyCount();
      deps.say('ok', `Reply queued from ${clinicName(sent.clinicId)} (${sent.segments} ${sent.segments === 1 ? 'part' : 'parts'}).`);
      await refreshAfterChange();
    } finally {
      ui.replySend.disabled = state.blocked.has(phone);
    }
  }

  // ---- the unread count, polled: new replies show up without a reload ----
  async function pollUnread(): Promise<void> {
    if (deps.token() === null) {
      renderBadge(null);
      return;
    }
    const doc = await api<UnreadDocument>('GET', '/api/inbound/unread', 'Reading the unread count', undefined, false);
    if (!doc) return;
    renderBadge(doc.total);
    const changed = doc.total !== state.lastUnread;
    state.lastUnread = doc.total;
    if (changed && state.open) {
      await refreshConversations();
      if (state.phone) await loadThread(state.phone);
    }
  }

  // ---- wiring ----
  ui.tabUsage.addEventListener('click', () => show('usage'));
  ui.tabMessages.addEventListener('click', () => show('messages'));
  for (const tab of [ui.tabUsage, ui.tabMessages]) {
    tab.addEventListener('keydown', (ev) => {
      if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
      const other = tab === ui.tabUsage ? ui.tabMessages : ui.tabUsage;
      other.focus();
      show(other === ui.tabMessages ? 'messages' : 'usage');
    });
  }
  ui.unlock.addEventListener('click', async () => {
    if ((await deps.askToken()) !== null) {
      renderLock();
      state.lastUnread = -1;
      await pollUnread();
      await reloadAll();
    }
  });
  ui.clinic.addEventListener('change', () => void loadConversations(false));
  ui.unreadOnly.addEventListener('change', () => void loadConversations(false));
  ui.more.addEventListener('click', () => void loadConversations(true));
  ui.older.addEventListener('click', () => {
    if (state.phone) void loadThread(state.phone, true);
  });
  ui.showHidden.addEventListener('change', renderThread);
  ui.threadRead.addEventListener('click', async () => {
    if (!state.phone) return;
    const r = await api<{ marked: number }>('POST', `/api/conversations/${encodeURIComponent(state.phone)}/read`, 'Marking the conversation read');
    if (!r) return;
    deps.say('ok', r.marked === 0 ? 'Nothing was unread.' : `${r.marked} ${r.marked === 1 ? 'reply' : 'replies'} marked read.`);
    await refreshAfterChange();
  });
  ui.threadBlock.addEventListener('click', async () => {
    const phone = state.phone;
    if (!phone) return;
    const blocked = state.blocked.has(phone);
    if (!blocked && !window.confirm('Block this number? Its replies will be kept but hidden, and texts to it refused.')) return;
    const r = await api<{ changed: boolean }>(blocked ? 'DELETE' : 'PUT', `/api/blocked/${encodeURIComponent(phone)}`, blocked ? 'Unblocking the number' : 'Blocking the number');
    if (!r) return;
    deps.say('ok', blocked ? 'The number is unblocked: its new replies count again, and it can be texted.' : 'The number is blocked: its replies are kept hidden, texts to it are refused.');
    await loadBlocked();
    await refreshAfterChange();
  });
  ui.replyBody.addEventListener('input', renderReplyCount);
  ui.replyForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void sendReply();
  });
  ui.moveSearch.addEventListener('input', () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => void search(), 200);
  });
  ui.moveForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void search();
  });
  ui.moveNone.addEventListener('click', () => void move(null, null));
  ui.moveCancel.addEventListener('click', () => {
    state.moving = null;
    ui.moveDialog.close();
  });
  window.addEventListener('hashchange', () => show(location.hash === '#messages' ? 'messages' : 'usage', false));

  renderReplyCount();
  show(location.hash === '#messages' ? 'messages' : 'usage', false);
  void pollUnread();
  window.setInterval(() => {
    if (!document.hidden) void pollUnread();
  }, UNREAD_POLL_MS);
}
