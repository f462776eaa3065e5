/**
 * The Texting Services page, in the browser. Plain DOM, no framework: compiled by
 * src/status/page/tsconfig.json to dist/src/status/page/app.js and loaded as a module script.
 *
 * Reads:  GET /status (this month, and connector state), GET /status?month=YYYY-MM (the grid's
 *         month), GET /readyz, GET /api/clinics/:id/optin.
 * Writes: PUT /api/clinics/default, PUT /api/clinics/:id/optin, with `Authorization: Bearer`.
 *
 * Money stays a string end to end: a contract decimal string is re-punctuated as dollars
 * ("0.0948" -> "$0.0948", "1234.5" -> "$1,234.50"), never parsed into a float, never rounded:
 * the figure shown is the exact figure, so no tooltip is needed to recover it.
 * Every value goes into the DOM through textContent, never as HTML.
 */
import type { ClinicUsage, StatusDocument } from '../status-document';
import { callApi, type ApiError } from './api.js';
import { byId, el } from './dom.js';
import { count, dollars } from './format.js';
import { refreshHistory } from './history.js';
import { initMessages } from './messages.js';

type StatusDoc = StatusDocument;

interface ReadyDoc {
  status: 'pass' | 'warn' | 'fail';
  checks: Record<string, Array<{ status: string; output?: string }>>;
}

interface OptinDoc {
  clinicId: number;
  optinTitle: string | null;
  titleInEffect: string;
  promptForOptin: boolean;
}

interface ChangeResult {
  changed: boolean;
  warning?: string;
  defaultClinicId?: number | null;
}

/** HQ counts as not reached when a stream's last good poll is older than this. */
const STALE_AFTER_MS = 2 * 60_000;
const REFRESH_EVERY_MS = 15_000;
const TOKEN_KEY = 'econnector.apiToken';
const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

// ---------------------------------------------------------------------------------------------
// Pure helpers

/** A user-facing month key: YYYY-MM with a year the server accepts (2000..2999). */
function isMonth(s: string | null): s is string {
  const m = s === null ? null : MONTH_RE.exec(s);
  return m !== null && Number(m[1]) >= 2000 && Number(m[1]) <= 2999;
}

function shiftMonth(month: string, delta: number): string {
  const m = MONTH_RE.exec(month);
  if (!m) return month;
  const index = Number(m[1]) * 12 + Number(m[2]) - 1 + delta;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

function monthLabel(month: string): string {
  const m = MONTH_RE.exec(month);
  if (!m) return month;
  // A calendar label only: built in UTC so no time zone can shift it into the next month.
  return new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)),
  );
}

/** Charges: to the ten-thousandth of a dollar at least, as texting prices are quoted ($0.0079). */
const CHARGE_DECIMALS = 4;
const charge = (usd: string): string => dollars(usd, CHARGE_DECIMALS);

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s ago`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

function clinicName(c: Pick<ClinicUsage, 'clinicId' | 'name'>): string {
  return c.name ?? `Clinic ${c.clinicId} (not in the account)`;
}

// ---------------------------------------------------------------------------------------------
// DOM

const ui = {
  officeTz: byId('office-tz'),
  alerts: byId('alerts'),
  monthLabel: byId('month-label'),
  captionMonth: byId('caption-month'),
  prev: byId<HTMLButtonElement>('prev-month'),
  next: byId<HTMLButtonElement>('next-month'),
  picker: byId<HTMLInputElement>('month-picker'),
  thisMonth: byId<HTMLButtonElement>('this-month'),
  rows: byId<HTMLTableSectionElement>('usage-rows'),
  totalLimit: byId('total-limit'),
  totalSent: byId('total-sent'),
  totalSentCharges: byId('total-sent-charges'),
  totalReceived: byId('total-received'),
  totalReceivedCharges: byId('total-received-charges'),
  summary: byId('charges-summary'),
  selectedName: byId('selected-name'),
  setDefault: byId<HTMLButtonElement>('set-default'),
  clearDefault: byId<HTMLButtonElement>('clear-default'),
  optinClinic: byId('optin-clinic'),
  optinForm: byId<HTMLFormElement>('optin-form'),
  optinFields: byId<HTMLFieldSetElement>('optin-fields'),
  optinTitle: byId<HTMLInputElement>('optin-title'),
  optinPrompt: byId<HTMLInputElement>('optin-prompt'),
  titleInEffect: byId('title-in-effect'),
  optinWarning: byId('optin-warning'),
  lastReceipts: byId('last-receipts-poll'),
  lastInbound: byId('last-inbound-poll'),
  lastAccount: byId('last-account-sync'),
  aggregates: byId('aggregates-computed'),
  quarantined: byId('quarantined'),
  catchingUp: byId('catching-up'),
  readiness: byId('readiness'),
  tokenState: byId('token-state'),
  forgetToken: byId<HTMLButtonElement>('forget-token'),
  message: byId('message'),
  dismissMessage: byId<HTMLButtonElement>('dismiss-message'),
  tokenDialog: byId<HTMLDialogElement>('token-dialog'),
  tokenForm: byId<HTMLFormElement>('token-form'),
  tokenInput: byId<HTMLInputElement>('token-input'),
  tokenCancel: byId<HTMLButtonElement>('token-cancel'),
};

type MessageKind = 'ok' | 'info' | 'warn' | 'error';

function clearMessage(): void {
  ui.message.textContent = '';
  ui.message.removeAttribute('data-kind');
  ui.dismissMessage.hidden = true;
}

function say(kind: MessageKind, text: string): void {
  ui.message.dataset.kind = kind;
  ui.message.textContent = text;
  ui.dismissMessage.hidden = text === '';
}

// ---------------------------------------------------------------------------------------------
// State

const state = {
  /** The month in the URL; null: this month (the URL has no month). */
  viewMonth: null as string | null,
  current: null as StatusDoc | null,
  shown: null as StatusDoc | null,
  selectedId: null as number | null,
  /** The clinic whose opt-in settings are in the form. */
  optinFor: null as number | null,
  loadSeq: 0,
  optinSeq: 0,
};

function monthFromUrl(): string | null {
  const m = new URLSearchParams(location.search).get('month');
  return isMonth(m) ? m : null;
}

function urlFor(month: string | null): string {
  return month === null ? location.pathname : `${location.pathname}?month=${month}`;
}

/** Shows `month` (null: this month), recording it in the URL and the history. */
function go(month: string | null): void {
  state.viewMonth = month;
  if (urlFor(month) !== location.pathname + location.search) history.pushState(null, '', urlFor(month));
  void refresh();
}

// ---------------------------------------------------------------------------------------------
// Reading

async function getJson<T>(path: string): Promise<{ status: number; body: T; date: number }> {
  const res = await fetch(path, { cache: 'no-store', headers: { accept: 'application/json' } });
  // The connector's clock, not this workstation's, judges how old a poll is.
  const date = Date.parse(res.headers.get('date') ?? '');
  const body = (await res.json()) as T;
  return { status: res.status, body, date: Number.isNaN(date) ? Date.now() : date };
}

async function refresh(): Promise<void> {
  void refreshHistory();
  const seq = ++state.loadSeq;
  const month = state.viewMonth;
  try {
    const [cur, shown, ready] = await Promise.all([
      getJson<StatusDoc>('/status'),
      month === null ? null : getJson<StatusDoc>(`/status?month=${month}`),
      getJson<ReadyDoc>('/readyz').catch(() => null),
    ]);
    if (seq !== state.loadSeq) return;
    if (cur.status !== 200) throw new Error(`GET /status answered ${cur.status}`);
    if (shown && shown.status !== 200) throw new Error(`GET /status?month=${month} answered ${shown.status}`);
    state.current = cur.body;
    state.shown = shown ? shown.body : cur.body;
    render(cur.date, ready?.body ?? null);
  } catch (err) {
    if (seq !== state.loadSeq) return;
    renderAlerts([`The connector's status server is not answering (${(err as Error).message}). The figures shown may be out of date.`]);
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

function render(now: number, ready: ReadyDoc | null): void {
  const cur = state.current!;
  const doc = state.shown!;
  document.title = `Texting Services · ${monthLabel(doc.month)} · eConnector`;
  ui.officeTz.textContent = doc.timezone;
  ui.monthLabel.textContent = monthLabel(doc.month);
  ui.captionMonth.textContent = monthLabel(doc.month);
  if (document.activeElement !== ui.picker) ui.picker.value = doc.month;
  ui.picker.max = cur.month;
  ui.next.disabled = doc.month >= cur.month;
  ui.prev.disabled = doc.month <= '2000-01';

  renderGrid(doc);
  // For tests and scripts: the month whose figures the grid now shows.
  byId('usage').dataset.month = doc.month;
  renderConnector(cur, now, ready);
  renderAlerts(alertsFor(cur, doc, now));
  renderSelection();
}

function renderGrid(doc: StatusDoc): void {
  if (state.selectedId !== null && !doc.clinics.some((c) => c.clinicId === state.selectedId)) state.selectedId = null;
  // Keep the keyboard where it was: a rebuilt row gets the focus back if its old radio had it.
  const focusedId = (document.activeElement as HTMLElement | null)?.closest?.('tbody tr')?.getAttribute('data-clinic-id');
  const rows = doc.clinics.map((c) => {
    const tr = el('tr');
    tr.dataset.clinicId = String(c.clinicId);
    const def = el('td', c.isDefault ? 'X' : '', 'default-mark');
    const loc = el('th');
    loc.scope = 'row';
    const label = el('label');
    const radio = el('input');
    radio.type = 'radio';
    radio.name = 'clinic';
    radio.value = String(c.clinicId);
    radio.checked = c.clinicId === state.selectedId;
    label.append(radio, el('span', clinicName(c), c.name === null ? 'unknown-clinic' : undefined));
    loc.append(label);
    tr.append(
      def,
      loc,
      el('td', c.subscribed ? 'Yes' : 'No'),
      el('td', c.primaryPhone ?? '\u2014'),
      el('td', c.countryCode ?? '\u2014'),
      el('td', dollars(doc.limitUsd), 'num'),
      el('td', count(c.sentCount), 'num'),
      el('td', charge(c.sentChargesUsd), 'num'),
      el('td', count(c.receivedCount), 'num'),
      el('td', charge(c.receivedChargesUsd), 'num'),
    );
    return tr;
  });
  // The radios are one native group: Tab enters it (at the checked one), arrow keys select.
  ui.rows.replaceChildren(...(rows.length > 0 ? rows : [emptyRow()]));
  if (focusedId) ui.rows.querySelector<HTMLInputElement>(`tr[data-clinic-id="${focusedId}"] input`)?.focus();

  ui.totalLimit.textContent = dollars(doc.limitUsd);
  ui.totalSent.textContent = count(doc.totals.sentCount);
  ui.totalSentCharges.textContent = charge(doc.totals.sentChargesUsd);
  ui.totalReceived.textContent = count(doc.totals.receivedCount);
  ui.totalReceivedCharges.textContent = charge(doc.totals.receivedChargesUsd);

  const limit = doc.limitUsd === null ? 'no monthly limit known yet' : `the ${dollars(doc.limitUsd)} monthly limit`;
  ui.summary.textContent = `Charges for ${monthLabel(doc.month)}: ${charge(doc.totals.chargesUsd)} (sent and received) of ${limit}.`;
  ui.summary.classList.toggle('over', doc.overLimit);
}

function emptyRow(): HTMLTableRowElement {
  const tr = el('tr');
  const td = el('td', 'No locations known yet: the connector has not synced the account from HQ.');
  td.colSpan = 10;
  tr.append(td);
  return tr;
}

function when(iso: string | null, tz: string, now: number): string {
  if (iso === null) return 'never';
  const t = Date.parse(iso);
  const local = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'medium', timeZone: tz }).format(new Date(t));
  return `${local} (${ago(now - t)})`;
}

function isStale(iso: string | null, now: number): boolean {
  return iso === null || now - Date.parse(iso) > STALE_AFTER_MS;
}

function renderConnector(cur: StatusDoc, now: number, ready: ReadyDoc | null): void {
  const e = cur.econnector;
  const tz = cur.timezone;
  ui.lastReceipts.textContent = when(e.lastReceiptsPollAt, tz, now);
  ui.lastReceipts.classList.toggle('bad', isStale(e.lastReceiptsPollAt, now));
  ui.lastInbound.textContent = when(e.lastInboundPollAt, tz, now);
  ui.lastInbound.classList.toggle('bad', isStale(e.lastInboundPollAt, now));
  ui.lastAccount.textContent = when(e.lastAccountSyncAt, tz, now);
  ui.aggregates.textContent = when(e.aggregatesComputedAt, tz, now);
  ui.quarantined.textContent =
    e.quarantined === 0
      ? 'none'
      : `${count(e.quarantined)} (items HQ sent in a broken shape, kept aside and acknowledged; they are not in the usage)`;
  ui.quarantined.classList.toggle('bad', e.quarantined > 0);
  // Additive fields: an older connector leaves them out.
  ui.catchingUp.textContent = e.catchingUp ? `Catching up: ${count(e.itemsPerSecond ?? 0)} items/s` : 'no (nothing waiting at HQ)';
  if (ready === null) {
    ui.readiness.textContent = 'unknown (GET /readyz did not answer)';
  } else {
    const problems = Object.entries(ready.checks)
      .flatMap(([name, results]) => results.filter((r) => r.status !== 'pass').map((r) => `${name}: ${r.status}${r.output ? ` (${r.output})` : ''}`));
    ui.readiness.textContent = problems.length === 0 ? ready.status : `${ready.status}; ${problems.join('; ')}`;
  }
  ui.readiness.classList.toggle('bad', ready === null || ready.status !== 'pass');
}

function alertsFor(cur: StatusDoc, doc: StatusDoc, now: number): string[] {
  const out: string[] = [];
  if (cur.overLimit) {
    out.push(
      `Over the monthly limit: charges for ${monthLabel(cur.month)} are ${charge(cur.totals.chargesUsd)}, at or above the ` +
        `${dollars(cur.limitUsd)} limit. HQ refuses new texts until next month.`,
    );
  }
  if (doc.month !== cur.month && doc.overLimit) {
    out.push(`Charges for ${monthLabel(doc.month)} (${charge(doc.totals.chargesUsd)}) reached the ${dollars(doc.limitUsd)} monthly limit.`);
  }
  const e = cur.econnector;
  const stale = [
    ['receipts', e.lastReceiptsPollAt],
    ['patient replies', e.lastInboundPollAt],
  ].filter(([, at]) => isStale(at ?? null, now));
  if (stale.length > 0) {
    const last = stale.map(([what, at]) => `${what}: ${at ? when(at, cur.timezone, now) : 'never'}`).join('; ');
    out.push(
      `HQ has not been reached for over 2 minutes (last good poll of ${last}). Usage shown may be behind, ` +
        'and patient replies are not being recorded until the connector reaches HQ again.',
    );
  }
  return out;
}

let lastAlerts = '';
function renderAlerts(texts: string[]): void {
  // Re-rendered only on change, so the live region does not repeat itself every refresh.
  const key = texts.join('\n');
  if (key === lastAlerts) return;
  lastAlerts = key;
  ui.alerts.replaceChildren(...texts.map((t) => el('p', t, 'alert')));
}

function selectedClinic(): ClinicUsage | null {
  return state.shown?.clinics.find((c) => c.clinicId === state.selectedId) ?? null;
}

function renderSelection(): void {
  const c = selectedClinic();
  for (const tr of ui.rows.querySelectorAll<HTMLTableRowElement>('tr[data-clinic-id]')) {
    const on = Number(tr.dataset.clinicId) === state.selectedId;
    tr.classList.toggle('selected', on);
    const radio = tr.querySelector('input');
    if (radio) radio.checked = on;
  }
  ui.selectedName.textContent = c ? clinicName(c) : 'none';
  ui.setDefault.disabled = c === null;
  ui.clearDefault.disabled = state.current?.defaultClinicId == null;
  ui.optinClinic.textContent = c ? clinicName(c) : 'no location selected';
  ui.optinFields.disabled = c === null || state.optinFor !== c.clinicId;
  if (c === null) {
    state.optinFor = null;
    ui.optinTitle.value = '';
    ui.optinPrompt.checked = false;
    ui.titleInEffect.textContent = '\u2014';
    hideOptinWarning();
  }
}

function select(clinicId: number): void {
  if (state.selectedId === clinicId) return;
  state.selectedId = clinicId;
  hideOptinWarning();
  renderSelection();
  void loadOptin(clinicId);
}

// ---------------------------------------------------------------------------------------------
// The office API

function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

function renderTokenState(): void {
  const has = token() !== null;
  ui.tokenState.textContent = has ? 'kept for this browser session' : 'not entered';
  ui.forgetToken.hidden = !has;
}

/** Asks for the token in a modal dialog; null when the user cancels. */
function askToken(): Promise<string | null> {
  return new Promise((resolve) => {
    const back = document.activeElement as HTMLElement | null;
    ui.tokenInput.value = '';
    const done = (value: string | null): void => {
      ui.tokenForm.removeEventListener('submit', onSubmit);
      ui.tokenCancel.removeEventListener('click', onCancel);
      ui.tokenDialog.removeEventListener('cancel', onCancel);
      if (ui.tokenDialog.open) ui.tokenDialog.close();
      back?.focus();
      resolve(value);
    };
    const onSubmit = (ev: Event): void => {
      ev.preventDefault();
      const value = ui.tokenInput.value.trim();
      if (value === '') {
        ui.tokenInput.focus();
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, value);
      renderTokenState();
      done(value);
    };
    const onCancel = (ev: Event): void => {
      ev.preventDefault();
      done(null);
    };
    ui.tokenForm.addEventListener('submit', onSubmit);
    ui.tokenCancel.addEventListener('click', onCancel);
    ui.tokenDialog.addEventListener('cancel', onCancel);
    ui.tokenDialog.showModal();
    ui.tokenInput.focus();
  });
}

/** Explains a refused or failed change in the message line. */
function explainFailure(status: number, body: ApiError, what: string): void {
  if (status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    renderTokenState();
    say('error', `${what} refused: the connector did not accept the API token (401). Nothing was changed; the next change will ask for the token again.`);
  } else if (status === 403) {
    say('error', `${what} refused: the connector has no API token set (API_TOKEN), so it accepts no changes (403). Nothing was changed.`);
  } else if (status === 400) {
    say('error', `${what} not done: ${body.message ?? 'the connector rejected the request'}${body.field ? ` (field ${body.field})` : ''}. Nothing was changed.`);
  } else {
    say('error', `${what} failed: the connector answered ${status}${body.message ? ` (${body.message})` : ''}.`);
  }
}

/**
 * A state-changing request with the bearer token, asked for once per browser session; null when
 * refused, cancelled or failed (the message line says why). `what` names the action: "Set Default".
 */
async function send<T>(method: 'PUT' | 'POST', path: string, body: unknown, what: string): Promise<T | null> {
  let t = token();
  if (t === null) {
    t = await askToken();
    if (t === null) {
      say('error', `${what} refused: changes need the office API token. Nothing was changed.`);
      return null;
    }
  }
  const answer = await callApi<T>(method, path, t, body);
  if (answer.ok) return answer.body;
  if ('unreachable' in answer) say('error', `${what} failed: the connector did not answer (${answer.unreachable}).`);
  else explainFailure(answer.status, answer.error, what);
  return null;
}

async function setDefault(clinicId: number | null): Promise<void> {
  const c = clinicId === null ? null : selectedClinic();
  const result = await send<ChangeResult>('PUT', '/api/clinics/default', { clinicId }, clinicId === null ? 'Clear Default' : 'Set Default');
  if (result === null) return;
  if (!result.changed) say('warn', result.warning ?? 'Nothing changed.');
  else if (clinicId === null) say('ok', 'No clinic is the default texting clinic now.');
  else say('ok', `${c ? clinicName(c) : `Clinic ${clinicId}`} is now the default texting clinic.${result.warning ? ` ${result.warning}` : ''}`);
  await refresh();
}

async function loadOptin(clinicId: number): Promise<void> {
  const seq = ++state.optinSeq;
  state.optinFor = null;
  ui.optinFields.disabled = true;
  ui.titleInEffect.textContent = '\u2014';
  try {
    const res = await getJson<OptinDoc & { message?: string }>(`/api/clinics/${clinicId}/optin`);
    if (seq !== state.optinSeq) return;
    if (res.status !== 200) {
      say('error', `Could not read the OptIn preferences (the connector answered ${res.status}${res.body.message ? `: ${res.body.message}` : ''}).`);
      return;
    }
    state.optinFor = clinicId;
    ui.optinTitle.value = res.body.optinTitle ?? '';
    ui.optinPrompt.checked = res.body.promptForOptin;
    ui.titleInEffect.textContent = res.body.titleInEffect;
    renderSelection();
  } catch (err) {
    if (seq === state.optinSeq) say('error', `Could not read the OptIn preferences (${(err as Error).message}).`);
  }
}

function hideOptinWarning(): void {
  ui.optinWarning.hidden = true;
  ui.optinWarning.textContent = '';
}

async function saveOptin(): Promise<void> {
  const clinicId = state.optinFor;
  const c = selectedClinic();
  if (clinicId === null || c === null) return;
  hideOptinWarning();
  const title = ui.optinTitle.value.trim();
  const result = await send<ChangeResult>(
    'PUT',
    `/api/clinics/${clinicId}/optin`,
    { optinTitle: title === '' ? null : title, promptForOptin: ui.optinPrompt.checked },
    'Save',
  );
  if (result === null) return;
  if (!result.changed) {
    ui.optinWarning.textContent = result.warning ?? 'These settings had not changed: nothing was saved.';
    ui.optinWarning.hidden = false;
    // The warning (role=alert) speaks for itself; an older message would only confuse.
    clearMessage();
    return;
  }
  say('ok', `OptIn preferences saved for ${clinicName(c)}.${result.warning ? ` ${result.warning}` : ''}`);
  if (state.selectedId === clinicId) await loadOptin(clinicId);
}

// ---------------------------------------------------------------------------------------------
// Wiring

function baseMonth(): string | null {
  return state.shown?.month ?? state.viewMonth;
}

ui.prev.addEventListener('click', () => {
  const m = baseMonth();
  if (m) go(shiftMonth(m, -1));
});
ui.next.addEventListener('click', () => {
  const m = baseMonth();
  if (m) go(shiftMonth(m, +1));
});
ui.thisMonth.addEventListener('click', () => go(null));
ui.picker.addEventListener('change', () => {
  if (isMonth(ui.picker.value) && ui.picker.value !== baseMonth()) go(ui.picker.value);
});
window.addEventListener('popstate', () => {
  state.viewMonth = monthFromUrl();
  void refresh();
});

ui.rows.addEventListener('change', (ev) => {
  const t = ev.target as HTMLInputElement;
  if (t.name === 'clinic') select(Number(t.value));
});
ui.rows.addEventListener('click', (ev) => {
  const tr = (ev.target as HTMLElement).closest('tr[data-clinic-id]') as HTMLTableRowElement | null;
  if (tr) {
    select(Number(tr.dataset.clinicId));
    if (!(ev.target as HTMLElement).closest('input')) tr.querySelector('input')?.focus();
  }
});

ui.setDefault.addEventListener('click', () => {
  if (state.selectedId !== null) void setDefault(state.selectedId);
});
ui.clearDefault.addEventListener('click', () => void setDefault(null));
ui.optinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void saveOptin();
});
ui.optinForm.addEventListener('input', hideOptinWarning);
ui.dismissMessage.addEventListener('click', clearMessage);
ui.forgetToken.addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  renderTokenState();
  say('info', 'The API token is forgotten; the next change will ask for it.');
});

const badMonth = new URLSearchParams(location.search).get('month');
state.viewMonth = monthFromUrl();
if (badMonth !== null && state.viewMonth === null) {
  history.replaceState(null, '', location.pathname);
  say('warn', 'The month in the address was not a month (YYYY-MM); showing this month.');
}
renderTokenState();
// The Text Messages view (messages.ts) asks for and keeps the token the way this page does.
initMessages({ token, askToken, say, forgetToken: () => {
  sessionStorage.removeItem(TOKEN_KEY);
  renderTokenState();
} });
void refresh();
setInterval(() => {
  if (!document.hidden) void refresh();
}, REFRESH_EVERY_MS);
