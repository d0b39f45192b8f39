// The dashboard: sign in once per tab, follow the snapshot stream, poll the
// report history, status and audit log, and draw it all.
import { openAction } from './actions.js';
import { Api, ApiError } from './api.js';
import { type ChartEvent, Charts } from './charts.js';
import { $, fill, h } from './dom.js';
import { RegionMap } from './map.js';
import {
  type AuditEntry,
  canOperate,
  HEALTH_COLOUR,
  regionColours,
  type Sample,
  type Session,
  type SnapshotJson,
  type Status,
  toSnapshot,
} from './model.js';
import { renderAudit, renderOperation, renderRegions } from './panels.js';
import { renderOutlier, renderRollout } from './rollout-panel.js';

const TOKEN_KEY = 'meridian.token';
const KEEP_SAMPLES = 900;

interface View {
  api: Api;
  session: Session;
  snapshot: SnapshotJson | null;
  status: Status | null;
  samples: Sample[];
  audit: AuditEntry[];
}

function takeTokenFromFragment() {
  // `meridian lab` may print a URL with #token=...: keep it for this tab, then drop it from the address bar.
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

function toast(text: string) {
  const el = $('#toast');
  el.textContent = text;
  el.dataset.shown = 'true';
  setTimeout(() => (el.dataset.shown = 'false'), 6000);
}

function chartEvents(audit: AuditEntry[]): ChartEvent[] {
  const events: ChartEvent[] = [];
  for (const e of audit) {
    const d = e.details ?? {};
    // A region's first evidence (UNKNOWN -> HEALTHY) is how every run starts, not an event.
    if (e.action === 'health' && d.from === 'UNKNOWN' && d.to === 'HEALTHY') continue;
    if (e.action === 'health')
      events.push({
        at: e.at,
        label: `${e.target} ${d.to}`,
        colour: HEALTH_COLOUR[d.to as keyof typeof HEALTH_COLOUR] ?? '#c62828',
      });
    else if (/^(rollout-(start|done|rollback|abort)|outlier-)/.test(e.action))
      events.push({ at: e.at, label: `${e.action} ${e.target ?? ''}`, colour: '#6f42c1' });
    else if (e.action.endsWith('-step') && typeof d.dial === 'number')
      events.push({ at: e.at, label: `${e.target} → ${d.dial} %`, colour: '#444' });
    else if (e.action === 'dial')
      events.push({ at: e.at, label: `${e.target} dial ${d.to} %`, colour: '#444' });
    else if (['evacuate', 'restore', 'abort'].includes(e.action) || /-(done|aborted)$/.test(e.action))
      events.push({ at: e.at, label: `${e.action} ${e.target ?? ''}`, colour: '#0b5394' });
  }
  return events.sort((a, b) => a.at - b.at);
}

function start(view: View) {
  const operator = canOperate(view.session);
  $('#login-section').hidden = true;
  $('#dashboard').hidden = false;
  $('#who').textContent = `${view.session.name} (${view.session.role})`;
  $('#actions-h').hidden = !operator;
  document.body.dataset.role = view.session.role;
  const signout = $<HTMLButtonElement>('#signout');
  signout.hidden = false;
  signout.onclick = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  };

  const map = new RegionMap($('#map'));
  const charts = new Charts($('#charts'));
  let mapLoaded: Promise<void> | null = null;
  let queued = false;
  const actionCtx = {
    api: view.api,
    regions: () => view.snapshot?.regions ?? [],
    maxLoad: view.session.gates.maxLoad,
    onDone: (message: string) => {
      toast(message);
      void refreshSlow();
    },
  };

  const render = () => {
    queued = false;
    const snap = view.snapshot;
    if (!snap) return;
    const ids = snap.regions.map((r) => r.id);
    const colours = regionColours(ids);
    const last = view.samples.at(-1);
    const latest = new Map((last?.regions ?? []).map((r) => [r.id, r]));
    const loads = new Map(snap.regions.map((r) => [r.id, latest.get(r.id)?.load ?? r.load]));
    const total = [...loads.values()].reduce((a, b) => a + b, 0);
    const shares = new Map([...loads].map(([id, l]) => [id, total > 0 ? l / total : 0]));
    $('#version').textContent = `snapshot v${snap.version}`;
    fill(
      $('#legend'),
      ...snap.regions.map((r) =>
        h('li', {}, h('span', { class: 'swatch', style: `background:${colours.get(r.id)}` }), r.id),
      ),
    );
    if (!mapLoaded)
      mapLoaded = map
        .load(toSnapshot(snap))
        .catch((e) => fill($('#map'), h('p', { class: 'error' }, `map: ${e.message}`)));
    void mapLoaded.then(() => map.render(toSnapshot(view.snapshot!), shares, colours));
    const status = new Map((view.status?.regions ?? []).map((r) => [r.id, r]));
    renderRegions(
      $('#regions tbody'),
      snap.regions.map((r) => ({
        region: r,
        colour: colours.get(r.id)!,
        status: status.get(r.id),
        sample: latest.get(r.id),
        share: shares.get(r.id) ?? 0,
      })),
      operator,
      (action, region) => openAction(actionCtx, action, region),
      view.session.gates.maxLoad,
    );
    renderOperation(
      $('#operation'),
      view.status?.operation ?? null,
      latest,
      ids,
      view.session,
      async (op) => {
        if (!confirm(`Abort ${op.kind} of ${op.region}? The dial stays at the last applied step.`)) return;
        try {
          await view.api.abort(op.id, 'aborted from the dashboard');
          toast(`operation ${op.id} aborted`);
        } catch (e) {
          toast(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
        }
        void refreshSlow();
      },
    );
    renderRollout($('#rollout-section'), $('#rollout'), view.status?.rollout);
    renderOutlier($('#global-banner'), $('#outlier'), view.status?.outlier);
    renderAudit($('#audit tbody'), view.audit);
    charts.update(view.samples, ids, colours, chartEvents(view.audit));
  };
  const schedule = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(render);
  };

  const refreshSlow = async () => {
    const [status, audit] = await Promise.all([view.api.status(), view.api.audit(100)]);
    view.status = status;
    view.audit = audit.entries;
    schedule();
  };
  let since = Date.now() - KEEP_SAMPLES * 1000;
  const refreshHistory = async () => {
    const { samples } = await view.api.history(since);
    if (samples.length === 0) return;
    since = samples.at(-1)!.at;
    view.samples.push(...samples);
    if (view.samples.length > KEEP_SAMPLES) view.samples.splice(0, view.samples.length - KEEP_SAMPLES);
    schedule();
  };
  const every = (ms: number, f: () => Promise<void>) => {
    const run = () =>
      f()
        .catch(() => {})
        .finally(() => setTimeout(run, ms));
    run();
  };
  every(1000, refreshHistory);
  every(3000, refreshSlow);

  const conn = $('#conn');
  let lastVersion = 0;
  void view.api.followSnapshots(
    (snap) => {
      view.snapshot = snap;
      if (snap.version !== lastVersion) {
        lastVersion = snap.version;
        void refreshSlow().catch(() => {});
      }
      schedule();
    },
    (state, error) => {
      conn.dataset.state = state;
      conn.textContent =
        state === 'live'
          ? 'live'
          : error
            ? `stream refused: ${error.message}`
            : 'reconnecting… (showing the last snapshot)';
    },
    new AbortController().signal,
  );
}

async function signIn(token: string): Promise<View> {
  const api = new Api(token);
  const session = await api.session();
  return { api, session, snapshot: null, status: null, samples: [], audit: [] };
}

function showLogin(message = '') {
  $('#login-section').hidden = false;
  $('#dashboard').hidden = true;
  $('#login-error').textContent = message;
  const form = $<HTMLFormElement>('#login');
  const input = $<HTMLInputElement>('#token');
  input.focus();
  form.onsubmit = async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    try {
      const view = await signIn(token);
      sessionStorage.setItem(TOKEN_KEY, token);
      input.value = '';
      start(view);
    } catch (err) {
      $('#login-error').textContent =
        err instanceof ApiError ? err.message : `cannot reach control: ${(err as Error).message}`;
    }
  };
}

async function boot() {
  takeTokenFromFragment();
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return showLogin();
  try {
    start(await signIn(token));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403))
      sessionStorage.removeItem(TOKEN_KEY);
    showLogin(err instanceof Error ? err.message : String(err));
  }
}

void boot();
