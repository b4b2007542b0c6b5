// Mode switch and drills (平急转换): choose the mode, see the plan that will run (effectivePlan),
// confirm, switch; follow the plan's run step by step. Response plans with their versions side
// by side.

import { gql, mutate } from '../api.js';
import { button, clear, field, fmtTime, h, nodes, uuid } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { confirmStep, modeBadge, notice, section, select, showError, showOk } from '../widgets.js';

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
  const plansBox = h('div');
  clear(root,
    section(t('modes.switch'),
      h('p', {}, `${t('modes.current')}: `, modeBadge(area), area.mode !== area.effectiveMode ? ` (${t('modes.own')}: ${t(`mode.${area.mode}`)})` : ''),
      switchBox, message),
    section(t('modes.runs'), runsBox),
    section(t('modes.plans'), plansBox));

  function drawSwitch() {
    const target = select(MODES.filter((m) => m !== area.mode).map((m) => [m, t(`mode.${m}`)]), area.mode === 'NORMAL' ? 'EMERGENCY' : 'RECOVERY', { name: 'mode', id: 'target-mode' });
    const drill = h('input', { type: 'checkbox', name: 'isDrill', id: 'is-drill' });
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
          s.counts && Object.keys(s.counts).length ? h('code', {}, ` ${paramsText(s.counts)}`) : null, s.error ? ` · ${s.error}` : '')))))) : h('p', { class: 'empty' }, t('modes.noRuns')));
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

  drawSwitch();
  loadRuns();
  loadPlans();
}
