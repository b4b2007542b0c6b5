// Bulk close after an emergency (收尾): closeTasks over the area's subtree with filters. A dry
// run shows what would happen (closed: somebody holds the task, those on site are completed
// and their hours recorded; cancelled: nobody holds it), then a confirmation step, then the
// real calls — at most `limit` tasks per call, repeated while the API says some remain.

import { mutate } from '../api.js';
import { button, clear, field, h, uuid } from '../dom.js';
import { t } from '../i18n.js';
import { confirmStep, notice, select, showError, showOk } from '../widgets.js';

const CLOSE_TASKS = `mutation ConsoleCloseTasks($areaId: ID!, $filter: CloseTasksFilter, $reason: String, $dryRun: Boolean, $key: String) {
  closeTasks(areaId: $areaId, filter: $filter, reason: $reason, dryRun: $dryRun, idempotencyKey: $key) {
    errors { field code message } dryRun matched closed cancelled skipped remaining taskIds
  }
}`;
const PRIORITIES = ['ROUTINE', 'URGENT', 'LIFE_SAFETY'];
const SOURCES = ['STAFF', 'REPORT', 'SAFETY_CHECK', 'PLAN'];
const MAX_CALLS = 20;

/**
 * The bulk-close form inside `container`. `fixed` filters (windDownId, planRunId) come from the
 * screen that opened it (a wind-down's "what still runs"); `onDone` runs after a real close.
 */
export function bulkCloseForm(container, { areaId, areaName, fixed = {}, onDone = () => {}, onBack = null } = {}) {
  // Real tasks only by default; a wind-down's or a run's own tasks whatever they are.
  const drill = select([['', t('bulk.drillAny')], ['false', t('bulk.realOnly')], ['true', t('bulk.drillOnly')]], fixed.windDownId || fixed.planRunId ? '' : 'false', { name: 'isDrill' });
  const source = select([['', t('bulk.sourceAny')], ...SOURCES.map((s) => [s, t(`taskSource.${s}`)])], '', { name: 'source' });
  const priorityBoxes = PRIORITIES.map((p) => h('input', { type: 'checkbox', name: 'priorities', value: p }));
  const reason = h('input', { name: 'reason', maxlength: 200, value: t('bulk.defaultReason') });
  const formMsg = notice();
  const result = h('div', { id: 'bulk-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'card', id: 'bulk-form', 'aria-label': t('bulk.title') },
    h('h3', {}, t('bulk.title')),
    h('p', { class: 'hint' }, t('bulk.intro', { area: areaName })),
    fixed.windDownId ? h('p', { class: 'meta' }, t('bulk.fromWindDown')) : null,
    fixed.planRunId ? h('p', { class: 'meta' }, t('bulk.fromRun')) : null,
    h('div', { class: 'row' }, field(t('bulk.drill'), drill), field(t('bulk.source'), source), field(t('bulk.reason'), reason)),
    h('fieldset', { class: 'inline-set' }, h('legend', {}, t('bulk.priorities')),
      priorityBoxes.map((box) => h('label', { class: 'inline' }, box, t(`priority.${box.value}`)))),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', id: 'bulk-preview' }, t('bulk.preview')),
      onBack ? button(t('back'), onBack) : null),
    formMsg, result);

  function filter() {
    const out = { ...fixed };
    if (drill.value) out.isDrill = drill.value === 'true';
    if (source.value) out.source = source.value;
    const priorities = priorityBoxes.filter((box) => box.checked).map((box) => box.value);
    if (priorities.length) out.priorities = priorities;
    return out;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(result);
    const variables = { areaId, filter: filter(), reason: reason.value.trim() };
    let preview;
    try {
      preview = await mutate(CLOSE_TASKS, { ...variables, dryRun: true, key: uuid() });
    } catch (error) { showError(formMsg, error); return; }
    if (!preview.matched) { showOk(formMsg, t('bulk.nothing')); return; }
    const details = h('div', { id: 'bulk-preview-counts' },
      h('p', {}, t('bulk.wouldClose', { n: preview.closed })),
      h('p', {}, t('bulk.wouldCancel', { n: preview.cancelled })),
      h('p', { class: 'hint' }, t('bulk.explain')));
    const ok = await confirmStep(result, t('bulk.confirm', { n: preview.matched, area: areaName }), details,
      { confirmLabel: t('bulk.run'), danger: true });
    if (!ok) return;
    const total = { closed: 0, cancelled: 0, skipped: 0, remaining: 0 };
    try {
      for (let call = 0; call < MAX_CALLS; call += 1) {
        const done = await mutate(CLOSE_TASKS, { ...variables, dryRun: false, key: uuid() });
        total.closed += done.closed;
        total.cancelled += done.cancelled;
        total.skipped += done.skipped;
        total.remaining = done.remaining;
        if (!done.remaining || !(done.closed + done.cancelled)) break;
      }
    } catch (error) { showError(formMsg, error); onDone(); return; }
    showOk(formMsg, t('bulk.done', total));
    if (total.remaining) formMsg.append(' ', t('bulk.remaining', { n: total.remaining }));
    onDone(total);
  });
  clear(container, form);
  return form;
}
