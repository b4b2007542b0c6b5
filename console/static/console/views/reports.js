// Reports inbox (居民上报): hazards and help requests as they arrive (reportsInArea), turned
// into a task in one step, or acknowledged, resolved or dismissed with a note.

import { gql, mutate } from '../api.js';
import { button, clear, field, fmtTime, h, nodes, uuid } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { subscribe } from '../ws.js';
import { notice, select, showError, showOk } from '../widgets.js';

const FIELDS = 'id kind status description createdAt statusNote reporterName reporterPhone photoUrl grid { id name } location { latitude longitude }';
const REPORTS = `query ConsoleReports($areaId: ID, $status: ReportStatus) {
  reports(areaId: $areaId, status: $status, first: 100) { totalCount edges { node { ${FIELDS} } } }
}`;
const ON_REPORT = `subscription ConsoleReportsInArea($areaId: ID!) {
  reportsInArea(areaId: $areaId) { type report { ${FIELDS} } }
}`;
const TO_TASK = `mutation ConsoleReportToTask($reportId: ID!, $priority: TaskPriority, $headcount: Int, $key: String) {
  createTaskFromReport(reportId: $reportId, priority: $priority, headcount: $headcount, idempotencyKey: $key) {
    errors { field code message } task { id }
  }
}`;
const SET_STATUS = `mutation ConsoleReportStatus($reportId: ID!, $status: ReportStatusChange!, $note: String) {
  setReportStatus(reportId: $reportId, status: $status, note: $note) { errors { field code message } report { id status } }
}`;
const OPEN = new Set(['SUBMITTED', 'ACKNOWLEDGED']);

export function render(ctx) {
  const { root, areaId } = ctx;
  const message = notice();
  const listBox = h('div');
  const reports = new Map();
  const filter = select([['OPEN', t('report.openOnly')], ['', t('report.all')], ...['SUBMITTED', 'ACKNOWLEDGED', 'CONVERTED_TO_TASK', 'RESOLVED', 'DISMISSED'].map((s) => [s, t(`reportStatus.${s}`)])], 'OPEN', { id: 'report-filter' });
  filter.addEventListener('change', load);
  clear(root, h('div', { class: 'toolbar' }, h('h2', {}, t('nav.reports')), field(t('report.filter'), filter), h('span', { class: 'hint' }, t('report.live'))), message, listBox);

  async function load() {
    const status = filter.value && filter.value !== 'OPEN' ? filter.value : null;
    try {
      const data = await gql(REPORTS, { areaId, status });
      reports.clear();
      nodes(data.reports).forEach((r) => reports.set(r.id, r));
      draw();
    } catch (error) { showError(message, error); }
  }

  function visible(report) {
    if (filter.value === 'OPEN') return OPEN.has(report.status);
    return !filter.value || report.status === filter.value;
  }

  function draw() {
    const rows = [...reports.values()].filter(visible).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    clear(listBox, rows.length ? h('ul', { class: 'report-list' }, rows.map(item)) : h('p', { class: 'empty' }, t('report.none')));
  }

  function item(report) {
    const rowMsg = notice();
    const note = h('input', { name: 'note', maxlength: 200, 'aria-label': t('report.note') });
    const setStatus = (status) => async () => {
      try { await mutate(SET_STATUS, { reportId: report.id, status, note: note.value.trim() }); showOk(rowMsg, t('report.updated')); load(); } catch (error) { showError(rowMsg, error); }
    };
    const open = OPEN.has(report.status);
    return h('li', { class: 'card', dataset: { reportId: report.id } },
      h('p', {}, h('span', { class: `badge ${report.kind === 'HELP' ? 'prio-life_safety' : 'prio-urgent'}` }, t(`reportKind.${report.kind}`)), ' ',
        h('strong', {}, t(`reportStatus.${report.status}`)), ` · ${report.grid.name} · ${fmtTime(report.createdAt, getLang())}`),
      h('p', {}, report.description),
      report.reporterName || report.reporterPhone ? h('p', { class: 'meta' }, `${t('report.reporter')}: ${report.reporterName || ''} ${report.reporterPhone || ''}`) : null,
      report.photoUrl ? h('p', {}, h('a', { href: report.photoUrl, target: '_blank', rel: 'noopener' }, t('report.photo'))) : null,
      report.statusNote ? h('p', { class: 'meta' }, `${t('report.note')}: ${report.statusNote}`) : null,
      open ? h('div', { class: 'actions' },
        button(t('report.toTask'), async () => {
          try {
            const payload = await mutate(TO_TASK, { reportId: report.id, key: uuid() });
            showOk(rowMsg, t('report.converted'));
            ctx.go('tasks', payload.task.id);
          } catch (error) { showError(rowMsg, error); }
        }, { class: 'primary' }),
        report.status === 'SUBMITTED' ? button(t('report.acknowledge'), setStatus('ACKNOWLEDGED')) : null,
        button(t('report.resolve'), setStatus('RESOLVED')),
        button(t('report.dismiss'), setStatus('DISMISSED'), { class: 'danger' }),
        note) : null,
      rowMsg);
  }

  load();
  return subscribe(ON_REPORT, { areaId }, {
    next: (payload) => {
      const event = payload.data && payload.data.reportsInArea;
      if (!event) return;
      reports.set(event.report.id, event.report);
      draw();
    },
    error: () => {},
  });
}
