// The rollout panel (waves, each region's version and phase, the last judgements, the result) and the
// outlier line (regions evacuated as outliers and why; the `global` banner), from /v1/status's
// `rollout` and `outlier` fields. Absent or null: hidden.
import {
  formatPValue,
  formatValue,
  type OutlierState,
  type RolloutJudgement,
  type RolloutRecord,
  regionOf,
  stopReason,
  waveOf,
  wavesDone,
} from '../../src/cli/rollout-record.js';
import { fill, h } from './dom.js';
import { time } from './model.js';

const LAST_JUDGEMENTS = 5;

const RESULT: Record<RolloutRecord['status'], string> = {
  running: 'running',
  paused: 'paused',
  done: 'done: every region runs the new version',
  'rolled-back': 'rolled back',
  aborted: 'aborted and rolled back',
};

function waves(r: RolloutRecord) {
  const done = wavesDone(r);
  const stopped = r.status === 'rolled-back' || r.status === 'aborted';
  return h(
    'ol',
    { class: 'waves' },
    ...r.waves.map((w, i) => {
      const state = i < done ? 'done' : i !== r.waveIndex ? 'pending' : stopped ? 'rolled-back' : 'current';
      return h(
        'li',
        { class: state, 'data-wave': i + 1, 'aria-current': state === 'current' ? 'step' : undefined },
        h('span', { class: 'wave-name' }, `Wave ${i + 1} · ${w.strategy}`),
        h(
          'ul',
          {},
          ...w.regions.map((id) => {
            const region = regionOf(r, id);
            return h(
              'li',
              { 'data-region': id, 'data-phase': region?.phase ?? 'pending' },
              h('strong', {}, id),
              ` ${region?.version ?? '–'} · ${region?.phase ?? 'pending'}`,
            );
          }),
        ),
      );
    }),
  );
}

function judgementRow(j: RolloutJudgement) {
  return h(
    'tr',
    { class: j.pass ? 'pass' : 'fail' },
    h('td', { class: 'num' }, time(j.at)),
    h('td', {}, j.region),
    h('td', { class: 'num' }, `${j.dial} %`),
    h('td', {}, j.pass ? '✓ pass' : '✗ fail', h('small', {}, j.why)),
    h(
      'td',
      {},
      ...j.metrics.map((m) =>
        h(
          'div',
          { class: m.pass ? 'metric' : 'metric fail' },
          `${m.name}: canary ${formatValue(m.canary)} vs baseline ${formatValue(m.baseline)}`,
          m.pValue === null ? '' : `, p ${formatPValue(m.pValue)}`,
        ),
      ),
    ),
  );
}

function judgements(r: RolloutRecord) {
  if (r.judgements.length === 0) return h('p', { class: 'muted' }, 'No judgement yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'judgements' },
      h(
        'caption',
        {},
        `Last judgements (${Math.min(LAST_JUDGEMENTS, r.judgements.length)} of ${r.judgements.length})`,
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Time', 'Region', 'Dial', 'Result', 'Canary vs baseline'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      h('tbody', {}, ...r.judgements.slice(-LAST_JUDGEMENTS).reverse().map(judgementRow)),
    ),
  );
}

export function renderRollout(section: HTMLElement, body: HTMLElement, r: RolloutRecord | null | undefined) {
  section.hidden = !r;
  if (!r) return;
  const stopped = r.status === 'rolled-back' || r.status === 'aborted';
  fill(
    body,
    h(
      'p',
      {},
      h('strong', {}, `${r.version}`),
      r.previousVersion ? ` (from ${r.previousVersion})` : '',
      ` · ${r.id} · phase ${r.phase} · ${waveOf(r)}`,
      ` · by ${r.who} · started ${time(r.startedAt)}`,
    ),
    h('p', { class: 'result', 'data-status': r.status }, RESULT[r.status]),
    stopped ? h('p', { class: 'stopped fail' }, `Why: ${stopReason(r)}`) : null,
    r.message ? h('p', { class: 'message' }, r.message) : null,
    waves(r),
    judgements(r),
  );
}

export function renderOutlier(banner: HTMLElement, line: HTMLElement, o: OutlierState | undefined) {
  banner.hidden = !o?.global;
  if (o?.global)
    fill(
      banner,
      h('strong', {}, 'Global condition: '),
      `${o.global.why} (dials held since ${time(o.global.at)})`,
    );
  const evacuated = o?.evacuated ?? [];
  line.hidden = evacuated.length === 0;
  fill(
    line,
    h('strong', {}, 'Evacuated as outliers: '),
    ...evacuated.map((e, i) =>
      h(
        'span',
        { 'data-region': e.region },
        i > 0 ? '; ' : '',
        `${e.region} (from dial ${e.fromDial} % at ${time(e.at)}): ${e.why}`,
      ),
    ),
  );
}
