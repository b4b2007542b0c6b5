// Mode switch and drills (平急转换): choose the mode, see the plan that will run (effectivePlan),
// confirm, switch; follow the plan's run step by step. Response plans with their versions side
// by side.

import { gql, mutate } from '../api.js';
import { button, clear, field, fmtTime, h, nodes, uuid } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { confirmStep, modeBadge, notice, section, select, showError, showOk } from '../widgets.js';
import { bulkCloseForm } from './bulkclose.js';

const MODES = ['NORMAL', 'STANDBY', 'EMERGENCY', 'RECOVERY'];
const PLAN_FIELDS = 'id name version mode isEnabled description changeNote createdAt createdByName area { id name } actions { type params }';
const EFFECTIVE = `query ConsoleEffectivePlan($areaId: ID!, $mode: Mode!) {
  effectivePlan(areaId: $areaId, mode: $mode) { ${PLAN_FIELDS} }
}`;
const SWITCH = `mutation ConsoleSwitchMode($areaId: ID!, $mode: Mode!, $reason: String, $isDrill: Boolean, $skipRecovery: Boolean, $key: String) {
  switchAreaMode(areaId: $areaId, mode: $mode, reason: $reason, isDrill: $isDrill, skipRecovery: $skipRecovery, idempotencyKey: $key) {
    errors { field code message }
    area { id mode effectiveMode }
    switch { id toMode isDrill planRun { id status } }
  }
}`;
const PLANS = `query ConsolePlans($areaId: ID!) {
  responsePlans(areaId: $areaId, allVersions: true, first: 100) { edges { node { ${PLAN_FIELDS} } } }
}`;
const RUNS = `query ConsolePlanRuns($areaId: ID!) {
  planRuns(areaId: $areaId, first: 10) {
    edges { node { id mode isDrill status createdAt finishedAt planVersion plan { id name } planArea { id name }
      steps { position action status error counts } } }
  }
}`;

const DRILL = `query ConsoleDrill($areaId: ID!) {
  area(id: $areaId) { id mode effectiveMode activeDrill { id mode startedAt modeChangedAt reason startedByName area { id name } } }
}`;
const CLOSED_FIELDS = 'messagesSuperseded offersWithdrawn tasksCancelled alertsCancelled alertsExpired safetyChecksClosed';
const WIND_DOWNS = `query ConsoleWindDowns($areaId: ID!) {
  windDowns(areaId: $areaId, first: 5) {
    edges { node { id isDrill cause status createdAt finishedAt since until area { id name }
      closed { ${CLOSED_FIELDS} } safetyChecksStillActive
      stillRunning { why detail task { id title status priority area { name } } } } }
  }
}`;
const WIND_DOWN_POLL_MS = 3000;

/** A plan's steps in words, with their parameters (as the API gives them). */
export function planSteps(plan, { compareWith = null } = {}) {
  return h('ol', { class: 'steps' }, plan.actions.map((action, index) => {
    const other = compareWith && compareWith.actions[index];
    const changed = compareWith && (!other || other.type !== action.type || JSON.stringify(other.params) !== JSON.stringify(action.params));
    return h('li', { class: changed ? 'changed' : '' },
      h('strong', {}, t(`action.${action.type}`)), changed ? h('span', { class: 'badge drill' }, '≠') : null,
      h('br'), h('code', {}, paramsText(action.params)));
  }));
}

function paramsText(params) {
  if (!params || typeof params !== 'object') return '';
  return Object.entries(params).map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : value}`).join('；');
}

export function render(ctx) {
  const { root, areaId } = ctx;
  const area = ctx.area;
  const message = notice();
  const switchBox = h('div');
  const runsBox = h('div');
  const drillBox = h('div', { id: 'drill-state', 'aria-live': 'polite' });
  const windBox = h('div', { id: 'wind-downs', 'aria-live': 'polite' });
  let pollTimer = null;
  const plansBox = h('div');
  clear(root,
    section(t('modes.switch'),
      h('p', {}, `${t('modes.current')}: `, modeBadge(area), area.mode !== area.effectiveMode ? ` (${t('modes.own')}: ${t(`mode.${area.mode}`)})` : ''),
      switchBox, message),
    section(t('drill.title'), drillBox),
    section(t('wind.title'), windBox),
    section(t('modes.runs'), runsBox),
    section(t('modes.plans'), plansBox));

  function drawSwitch() {
    const target = select(MODES.filter((m) => m !== area.mode).map((m) => [m, t(`mode.${m}`)]), area.mode === 'NORMAL' ? 'EMERGENCY' : 'RECOVERY', { name: 'mode', id: 'target-mode' });
    const drill = h('input', { type: 'checkbox', name: 'isDrill', id: 'is-drill' });
    // A drill moves from the drill's own mode (NORMAL when none runs here), not the real one.
    drill.addEventListener('change', () => {
      const own = area.activeDrill && area.activeDrill.area && area.activeDrill.area.id === areaId ? area.activeDrill.mode : 'NORMAL';
      const from = drill.checked ? own : area.mode;
      const keep = target.value;
      const options = MODES.filter((m) => m !== from);
      clear(target, options.map((m) => h('option', { value: m, selected: m === keep }, t(`mode.${m}`))));
      if (!options.includes(keep)) target.value = from === 'NORMAL' ? 'EMERGENCY' : 'NORMAL';
    });
    const reason = h('input', { name: 'reason', maxlength: 200 });
    const skip = h('input', { type: 'checkbox', name: 'skipRecovery' });
    const previewBox = h('div', { class: 'preview', 'aria-live': 'polite' });
    const formMsg = notice();
    const form = h('form', { class: 'card', id: 'switch-form' },
      h('div', { class: 'row' }, field(t('modes.target'), target), field(t('modes.reason'), reason)),
      h('label', { class: 'inline' }, drill, t('modes.isDrill')),
      area.mode === 'EMERGENCY' ? h('label', { class: 'inline' }, skip, t('modes.skipRecovery')) : null,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'preview-switch' }, t('modes.preview'))),
      previewBox, formMsg);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clear(previewBox);
      const mode = target.value;
      let plan = null;
      try { plan = (await gql(EFFECTIVE, { areaId, mode })).effectivePlan; } catch (error) { showError(formMsg, error); return; }
      const details = plan && plan.isEnabled
        ? h('div', { id: 'plan-preview' }, h('p', {}, t('modes.planWillRun', { name: plan.name, version: plan.version, area: plan.area.name })), planSteps(plan))
        : h('p', { id: 'plan-preview' }, t('modes.noPlan'));
      const question = drill.checked
        ? t('modes.confirmDrill', { area: area.name, mode: t(`mode.${mode}`) })
        : t('modes.confirmSwitch', { area: area.name, mode: t(`mode.${mode}`) });
      const ok = await confirmStep(previewBox, question, details, { confirmLabel: t('confirm'), danger: !drill.checked && mode === 'EMERGENCY' });
      if (!ok) return;
      try {
        await mutate(SWITCH, { areaId, mode, reason: reason.value.trim(), isDrill: drill.checked, skipRecovery: skip.checked, key: form.dataset.key || (form.dataset.key = uuid()) });
        const fresh = await ctx.refreshAreas();
        if (fresh) Object.assign(area, fresh);
        showOk(message, t('modes.switched'));
        form.dataset.key = '';
        drawSwitch();
        loadRuns();
        loadDrill();
        loadWindDowns();
      } catch (error) { showError(formMsg, error); }
    });
    clear(switchBox, form);
  }

  async function loadRuns() {
    try {
      const runs = nodes((await gql(RUNS, { areaId })).planRuns);
      clear(runsBox, runs.length ? h('ul', { class: 'runs' }, runs.map((run) => h('li', {},
        h('strong', {}, `${fmtTime(run.createdAt, getLang())} · ${t(`mode.${run.mode}`)}`), run.isDrill ? h('span', { class: 'badge drill' }, t('drill')) : null,
        ` · ${run.plan ? `${run.plan.name} (${t('modes.version', { n: run.planVersion })})` : t('modes.noPlan')} · ${t(`runStatus.${run.status}`)}`,
        h('ol', { class: 'steps' }, run.steps.map((s) => h('li', {}, `${t(`action.${s.action}`)} · ${t(`runStatus.${s.status}`)}`,
          s.counts && Object.keys(s.counts).length ? h('code', {}, ` ${paramsText(s.counts)}`) : null, s.error ? ` · ${s.error}` : ''))),
        runCloser(run)))) : h('p', { class: 'empty' }, t('modes.noRuns')));
    } catch (error) { showError(message, error); }
  }

  async function loadPlans() {
    try {
      const plans = nodes((await gql(PLANS, { areaId })).responsePlans);
      if (!plans.length) { clear(plansBox, h('p', { class: 'empty' }, t('modes.noPlans'))); return; }
      const byMode = new Map();
      plans.forEach((p) => { if (!byMode.has(p.mode)) byMode.set(p.mode, []); byMode.get(p.mode).push(p); });
      clear(plansBox, [...byMode.entries()].map(([mode, versions]) => comparison(mode, versions.sort((a, b) => b.version - a.version))));
    } catch (error) { showError(message, error); }
  }

  function comparison(mode, versions) {
    const left = select(versions.map((v) => [v.id, t('modes.version', { n: v.version })]), versions[0].id, { 'aria-label': `${t(`mode.${mode}`)} A` });
    const right = select(versions.map((v) => [v.id, t('modes.version', { n: v.version })]), (versions[1] || versions[0]).id, { 'aria-label': `${t(`mode.${mode}`)} B` });
    const columns = h('div', { class: 'columns' });
    const draw = () => {
      const a = versions.find((v) => v.id === left.value);
      const b = versions.find((v) => v.id === right.value);
      clear(columns, (a === b ? [a] : [a, b]).map((plan, i) => h('div', { class: 'card' },
        h('h4', {}, `${plan.name} · ${t('modes.version', { n: plan.version })}`),
        h('p', { class: 'meta' }, `${plan.isEnabled ? t('modes.enabled') : t('modes.disabled')} · ${fmtTime(plan.createdAt, getLang())}${plan.createdByName ? ` · ${t('modes.by')} ${plan.createdByName}` : ''}`),
        plan.changeNote ? h('p', {}, `${t('modes.changeNote')}: ${plan.changeNote}`) : null,
        planSteps(plan, { compareWith: a === b ? null : (i === 0 ? b : a) }))));
    };
    left.addEventListener('change', draw);
    right.addEventListener('change', draw);
    draw();
    return h('div', { class: 'plan-mode' }, h('h3', {}, `${t(`mode.${mode}`)} · ${t('modes.versions')}`),
      versions.length > 1 ? h('div', { class: 'row' }, left, right) : null, columns);
  }

  // The tasks a run created (its descendants' runs and safety checks included), closed in bulk.
  function runCloser(run) {
    if (!run.steps.some((step) => step.action === 'CREATE_TASKS' || step.action === 'SAFETY_CHECK')) return null;
    const box = h('div');
    return h('div', {}, button(t('modes.closeRunTasks'), () => bulkCloseForm(box, {
      areaId, areaName: area.name, fixed: { planRunId: run.id }, onDone: () => loadRuns(), onBack: () => clear(box),
    }), { class: 'link' }), box);
  }

  // --- The drill running on this area (or an ancestor) --------------------------------------
  async function loadDrill() {
    try {
      const fresh = (await gql(DRILL, { areaId })).area;
      if (!fresh) return;
      const drill = fresh.activeDrill;
      area.activeDrill = drill;
      if (!drill) { clear(drillBox, h('p', { class: 'empty', id: 'no-drill' }, t('drill.none'))); return; }
      const own = drill.area.id === areaId;
      const endMsg = notice();
      const end = own ? button(t('drill.end'), async () => {
        const ok = await confirmStep(drillBox, t('drill.endConfirm', { area: area.name }), h('p', {}, t('drill.endExplain')), { confirmLabel: t('drill.end'), danger: true });
        if (!ok) return;
        try {
          await mutate(SWITCH, { areaId, mode: 'NORMAL', reason: '', isDrill: true, skipRecovery: false, key: uuid() });
          const refreshed = await ctx.refreshAreas();
          if (refreshed) Object.assign(area, refreshed);
          showOk(message, t('drill.ended'));
          drawSwitch();
          loadDrill();
          loadRuns();
          loadWindDowns();
        } catch (error) { showError(endMsg, error); }
      }, { id: 'end-drill', class: 'danger' }) : null;
      clear(drillBox, h('div', { class: 'card drill-card' },
        h('p', {}, h('span', { class: 'badge drill' }, `${t('drill')} · ${t(`mode.${drill.mode}`)}`), ' ',
          own ? '' : t('drill.onAncestor', { area: drill.area.name })),
        h('p', { class: 'meta' }, `${t('drill.started')} ${fmtTime(drill.startedAt, getLang())}`,
          drill.startedByName ? ` · ${t('modes.by')} ${drill.startedByName}` : '',
          drill.reason ? ` · ${drill.reason}` : ''),
        h('p', { class: 'hint' }, t('drill.overlay', { mode: t(`mode.${fresh.effectiveMode}`) })),
        end ? h('div', { class: 'actions' }, end) : null, endMsg));
    } catch (error) { showError(message, error); }
  }

  // --- Wind-downs: what ending a footing closed, and what still runs ---------------------------
  async function loadWindDowns() {
    clearTimeout(pollTimer);
    try {
      const downs = nodes((await gql(WIND_DOWNS, { areaId })).windDowns);
      if (!downs.length) { clear(windBox, h('p', { class: 'empty' }, t('wind.none'))); return; }
      clear(windBox, downs.map(windDownCard));
      // Wind-downs run in the background: follow one until it is DONE.
      if (downs.some((d) => d.status === 'PENDING' || d.status === 'RUNNING')) pollTimer = setTimeout(loadWindDowns, WIND_DOWN_POLL_MS);
    } catch (error) { showError(message, error); }
  }

  function windDownCard(down) {
    const c = down.closed;
    const formBox = h('div');
    const open = down.stillRunning.filter((s) => s.task.status !== 'DONE' && s.task.status !== 'CANCELLED');
    return h('article', { class: 'card wind-down', dataset: { windDownId: down.id } },
      h('h3', {}, `${t(`windCause.${down.cause}`)} · ${down.area.name}`, down.isDrill ? h('span', { class: 'badge drill' }, t('drill')) : null),
      h('p', { class: 'meta' }, `${fmtTime(down.createdAt, getLang())} · ${t(`fanout.${down.status}`)}`),
      h('table', { class: 'pairs wind-closed' }, h('tbody', {}, [
        ['tasksCancelled', c.tasksCancelled], ['offersWithdrawn', c.offersWithdrawn], ['alertsCancelled', c.alertsCancelled],
        ['alertsExpired', c.alertsExpired], ['safetyChecksClosed', c.safetyChecksClosed], ['messagesSuperseded', c.messagesSuperseded],
      ].map(([key, value]) => h('tr', {}, h('th', { scope: 'row' }, t(`wind.${key}`)), h('td', { class: 'num' }, String(value)))))),
      down.safetyChecksStillActive ? h('p', { class: 'notice' }, t('wind.checksActive', { n: down.safetyChecksStillActive })) : null,
      h('h4', {}, t('wind.stillRunning', { n: open.length })),
      open.length ? h('ul', { class: 'still-running' }, open.map((s) => h('li', {},
        h('a', { href: `#/${encodeURIComponent(areaId)}/tasks/${encodeURIComponent(s.task.id)}` }, s.task.title),
        ` · ${s.task.area.name} · ${t(`taskStatus.${s.task.status}`)} · `, h('span', { class: 'hint' }, s.detail)))) : h('p', { class: 'empty' }, t('wind.allSettled')),
      open.length ? button(t('wind.closeRest'), () => bulkCloseForm(formBox, {
        areaId, areaName: area.name, fixed: { windDownId: down.id }, onDone: () => loadWindDowns(), onBack: () => clear(formBox),
      }), { class: 'wind-close' }) : null,
      formBox);
  }

  drawSwitch();
  loadDrill();
  loadWindDowns();
  loadRuns();
  loadPlans();
  return () => clearTimeout(pollTimer);
}
