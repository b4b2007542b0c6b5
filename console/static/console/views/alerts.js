// Alerts (预警): issue, update and cancel, with the CAP 1.2 document shown before it goes out
// (previewAlert: the server renders it, writing nothing) and for every alert sent.

import { gql, mutate } from '../api.js';
import { button, clear, field, fmtTime, h, nodes, uuid } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { subscribe } from '../ws.js';
import { confirmStep, notice, section, select, showError, showOk } from '../widgets.js';

const FIELDS = `id identifier event headline description instruction headlineEn severity urgency certainty categories
  msgType isActive isDrill sentAt expires capXml area { id name }`;
const ALERTS = `query ConsoleAlerts($areaId: ID!) { alerts(areaId: $areaId, first: 30) { edges { node { ${FIELDS} } } } }`;
const ON_ALERT = `subscription ConsoleAreaAlerts($areaId: ID!) { areaAlerts(areaId: $areaId) { ${FIELDS} } }`;
const PREVIEW = `mutation ConsolePreviewAlert($areaId: ID!, $input: AlertInput!, $isDrill: Boolean) {
  previewAlert(areaId: $areaId, input: $input, isDrill: $isDrill) { errors { field code message } capXml }
}`;
const ISSUE = `mutation ConsoleIssueAlert($areaId: ID!, $input: AlertInput!, $isDrill: Boolean, $key: String) {
  issueAlert(areaId: $areaId, input: $input, isDrill: $isDrill, idempotencyKey: $key) { errors { field code message } alert { id } }
}`;
const UPDATE = `mutation ConsoleUpdateAlert($alertId: ID!, $changes: AlertChangesInput!, $key: String) {
  updateAlert(alertId: $alertId, changes: $changes, idempotencyKey: $key) { errors { field code message } alert { id } }
}`;
const CANCEL = `mutation ConsoleCancelAlert($alertId: ID!, $note: String, $key: String) {
  cancelAlert(alertId: $alertId, note: $note, idempotencyKey: $key) { errors { field code message } alert { id } }
}`;
const CATEGORIES = ['MET', 'GEO', 'SAFETY', 'SECURITY', 'RESCUE', 'FIRE', 'HEALTH', 'ENV', 'TRANSPORT', 'INFRA', 'CBRNE', 'OTHER'];
const URGENCY = ['IMMEDIATE', 'EXPECTED', 'FUTURE', 'PAST', 'UNKNOWN'];
const SEVERITY = ['EXTREME', 'SEVERE', 'MODERATE', 'MINOR', 'UNKNOWN'];
const CERTAINTY = ['OBSERVED', 'LIKELY', 'POSSIBLE', 'UNLIKELY', 'UNKNOWN'];

function capBlock(xml) {
  return h('pre', { class: 'cap', tabindex: '0', 'aria-label': t('alerts.cap') }, xml);
}

export function render(ctx) {
  const { root, areaId, area } = ctx;
  const message = notice();
  const formBox = h('div');
  const listBox = h('div');
  clear(root, h('div', { class: 'toolbar' }, h('h2', {}, t('nav.alerts')), button(t('alerts.issue'), () => openIssue(), { class: 'primary', id: 'issue-alert' })),
    formBox, message, listBox);

  async function load() {
    try { draw(nodes((await gql(ALERTS, { areaId })).alerts)); } catch (error) { showError(message, error); }
  }

  function draw(alerts) {
    clear(listBox, alerts.length ? alerts.map((alert) => {
      const rowMsg = notice();
      const cap = h('details', {}, h('summary', {}, t('alerts.cap')), capBlock(alert.capXml));
      return section(`${alert.headline}`,
        h('p', { class: 'meta' }, `${alert.event} · ${alert.area.name} · ${t('alerts.msgType')} ${alert.msgType} · ${t('alerts.sentAt')} ${fmtTime(alert.sentAt, getLang())}`,
          alert.isDrill ? h('span', { class: 'badge drill' }, t('drill')) : null,
          h('span', { class: `badge ${alert.isActive ? 'mode-emergency' : ''}` }, alert.isActive ? t('alerts.active') : t('alerts.inactive'))),
        alert.description ? h('p', {}, alert.description) : null,
        alert.instruction ? h('p', {}, h('strong', {}, `${t('alerts.instruction')}: `), alert.instruction) : null,
        alert.isActive && alert.area.id === areaId ? h('div', { class: 'actions' },
          button(t('alerts.update'), () => openUpdate(alert)),
          button(t('alerts.cancel'), () => cancelOne(alert, rowMsg), { class: 'danger' })) : null,
        rowMsg, cap);
    }) : h('p', { class: 'empty' }, t('alerts.none')));
  }

  function alertForm(onSubmit, initial = {}, { isNew = true } = {}) {
    const event = h('input', { name: 'event', value: initial.event || '', required: true, maxlength: 100 });
    const headline = h('input', { name: 'headline', value: initial.headline || '', required: true, maxlength: 160 });
    const description = h('textarea', { name: 'description', rows: 3 });
    description.value = initial.description || '';
    const instruction = h('textarea', { name: 'instruction', rows: 2 });
    instruction.value = initial.instruction || '';
    const headlineEn = h('input', { name: 'headlineEn', value: initial.headlineEn || '' });
    const category = select(CATEGORIES.map((c) => [c, c]), (initial.categories && initial.categories[0]) || 'MET', { name: 'category' });
    const urgency = select(URGENCY.map((c) => [c, c]), initial.urgency || 'EXPECTED', { name: 'urgency' });
    const severity = select(SEVERITY.map((c) => [c, c]), initial.severity || 'SEVERE', { name: 'severity' });
    const certainty = select(CERTAINTY.map((c) => [c, c]), initial.certainty || 'LIKELY', { name: 'certainty' });
    const expires = h('input', { type: 'datetime-local', name: 'expires' });
    const sms = h('input', { type: 'checkbox', name: 'sendSms', checked: true });
    const drill = h('input', { type: 'checkbox', name: 'isDrill' });
    const previewBox = h('div', { 'aria-live': 'polite' });
    const formMsg = notice();
    const values = () => {
      const input = {
        event: event.value.trim(), headline: headline.value.trim(), description: description.value.trim(), instruction: instruction.value.trim(),
        headlineEn: headlineEn.value.trim(), categories: [category.value], urgency: urgency.value, severity: severity.value, certainty: certainty.value,
        sendSms: sms.checked,
      };
      if (expires.value) input.expires = new Date(expires.value).toISOString();
      return input;
    };
    const form = h('form', { class: 'card' }, h('h3', {}, isNew ? t('alerts.issue') : t('alerts.update')),
      h('div', { class: 'row' }, field(t('alerts.event'), event), field(t('alerts.headline'), headline)),
      field(t('alerts.description'), description), field(t('alerts.instruction'), instruction), field(t('alerts.headlineEn'), headlineEn),
      h('div', { class: 'row' }, field(t('alerts.category'), category), field(t('alerts.urgency'), urgency), field(t('alerts.severity'), severity), field(t('alerts.certainty'), certainty), field(t('alerts.expires'), expires)),
      h('label', { class: 'inline' }, sms, t('alerts.sendSms')),
      isNew ? h('label', { class: 'inline' }, drill, t('alerts.isDrill')) : null,
      formMsg,
      h('div', { class: 'actions' },
        isNew ? button(t('alerts.preview'), async () => showPreview(previewBox, formMsg, values(), drill.checked), { id: 'preview-cap' }) : null,
        h('button', { type: 'submit', class: 'primary' }, isNew ? t('alerts.issue') : t('alerts.update')),
        button(t('back'), () => clear(formBox))),
      previewBox);
    form.addEventListener('submit', async (e) => { e.preventDefault(); await onSubmit(values(), drill.checked, previewBox, formMsg); });
    return form;
  }

  async function showPreview(box, formMsg, input, isDrill) {
    try {
      const payload = await mutate(PREVIEW, { areaId, input, isDrill });
      clear(box, h('h4', {}, t('alerts.previewTitle')), capBlock(payload.capXml));
      return payload.capXml;
    } catch (error) { showError(formMsg, error); clear(box); return false; }
  }

  function openIssue() {
    const key = uuid();
    const form = alertForm(async (input, isDrill, previewBox, formMsg) => {
      const xml = await showPreview(previewBox, formMsg, input, isDrill);
      if (xml === false) return;
      const ok = await confirmStep(previewBox, t('alerts.confirmIssue', { area: area.name }), null, { confirmLabel: t('alerts.issue'), danger: !isDrill });
      if (!ok) return;
      try {
        await mutate(ISSUE, { areaId, input, isDrill, key });
        clear(formBox);
        showOk(message, t('alerts.issued'));
        load();
      } catch (error) { showError(formMsg, error); }
    });
    clear(formBox, form);
    form.querySelector('input').focus();
  }

  function openUpdate(alert) {
    const key = uuid();
    const form = alertForm(async (changes, _drill, _box, formMsg) => {
      try {
        await mutate(UPDATE, { alertId: alert.id, changes, key });
        clear(formBox);
        showOk(message, t('alerts.updated'));
        load();
      } catch (error) { showError(formMsg, error); }
    }, alert, { isNew: false });
    clear(formBox, form);
    form.querySelector('input').focus();
  }

  async function cancelOne(alert, rowMsg) {
    const note = h('input', { name: 'note', maxlength: 200 });
    const ok = await confirmStep(rowMsg.parentElement, t('alerts.confirmCancel', { headline: alert.headline }), field(t('alerts.cancelNote'), note), { confirmLabel: t('alerts.cancel'), danger: true });
    if (!ok) return;
    try {
      await mutate(CANCEL, { alertId: alert.id, note: note.value.trim(), key: uuid() });
      showOk(message, t('alerts.cancelled'));
      load();
    } catch (error) { showError(rowMsg, error); }
  }

  load();
  return subscribe(ON_ALERT, { areaId }, { next: () => load(), error: () => {} });
}
