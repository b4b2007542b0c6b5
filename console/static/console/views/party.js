// Party-member check-ins (党员报到) to confirm or reject, and the community's service hours,
// with corrections and an Excel export.

import { gql, mutate } from '../api.js';
import { button, clear, field, fmtTime, h, nodes, uuid } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { confirmStep, notice, section, showError, showOk } from '../widgets.js';

const REGISTRATIONS = `query ConsoleRegistrations($communityId: ID) {
  partyMemberRegistrations(communityId: $communityId, status: PENDING, first: 100) {
    totalCount edges { node { id status name workUnit partyBranch phone homeAddress createdAt community { name } } }
  }
}`;
const HOURS = `query ConsoleHours($communityId: ID!) {
  serviceHours(communityId: $communityId, period: MONTH) {
    total entryCount
    entries(first: 50) { edges { node { id memberName hours kind reason occurredAt correctsId recordedByName sourceDescription } } }
  }
}`;
const CONFIRM = `mutation ConsoleConfirmRegistration($id: ID!, $key: String) {
  confirmPartyMemberRegistration(registrationId: $id, idempotencyKey: $key) { errors { field code message } registration { id status } }
}`;
const REJECT = `mutation ConsoleRejectRegistration($id: ID!, $reason: String!, $key: String) {
  rejectPartyMemberRegistration(registrationId: $id, reason: $reason, idempotencyKey: $key) { errors { field code message } registration { id status } }
}`;
const CORRECT = `mutation ConsoleCorrectHours($id: ID!, $hours: Decimal!, $reason: String!, $key: String) {
  correctServiceHours(entryId: $id, hours: $hours, reason: $reason, idempotencyKey: $key) { errors { field code message } entry { id } }
}`;
const EXPORT = `mutation ConsoleExportHours($communityId: ID!) {
  exportServiceHours(communityId: $communityId, format: XLSX) { errors { field code message } file { filename contentType contentBase64 } }
}`;

/** The community this screen is about: the area itself, or the community above a grid. */
function communityOf(ctx) {
  if (ctx.area.kind === 'COMMUNITY') return ctx.area;
  if (ctx.area.kind === 'GRID' && ctx.area.parent) return ctx.state.byId.get(ctx.area.parent.id) || null;
  return null;
}

export function render(ctx) {
  const { root } = ctx;
  const message = notice();
  const regBox = h('div');
  const hoursBox = h('div');
  const community = communityOf(ctx);
  clear(root, h('h2', {}, t('nav.party')), message, section(t('party.pending'), regBox), section(t('party.hours'), hoursBox));

  async function loadRegistrations() {
    try {
      const data = await gql(REGISTRATIONS, { communityId: community ? community.id : null });
      const rows = nodes(data.partyMemberRegistrations);
      clear(regBox, rows.length ? h('table', {},
        h('thead', {}, h('tr', {}, [t('party.name'), t('party.workUnit'), t('party.branch'), t('party.community'), t('residents.phone'), ''].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, rows.map((r) => {
          const cellMsg = notice();
          const cell = h('td', {},
            button(t('party.confirm'), async () => {
              try { await mutate(CONFIRM, { id: r.id, key: uuid() }); showOk(message, t('party.confirmed')); loadRegistrations(); } catch (error) { showError(cellMsg, error); }
            }, { class: 'primary' }), ' ',
            button(t('party.reject'), async () => {
              const reason = h('input', { name: 'reason', maxlength: 200 });
              if (!(await confirmStep(cell, t('party.reject'), field(t('party.reason'), reason), { confirmLabel: t('party.reject'), danger: true }))) return;
              try { await mutate(REJECT, { id: r.id, reason: reason.value.trim(), key: uuid() }); showOk(message, t('party.rejected')); loadRegistrations(); } catch (error) { showError(cellMsg, error); }
            }, { class: 'danger' }), cellMsg);
          return h('tr', {}, h('th', { scope: 'row' }, r.name), h('td', {}, r.workUnit), h('td', {}, r.partyBranch), h('td', {}, r.community.name), h('td', {}, r.phone || '—'), cell);
        }))) : h('p', { class: 'empty' }, t('party.none')));
    } catch (error) { showError(message, error); }
  }

  async function loadHours() {
    if (!community) { clear(hoursBox, h('p', { class: 'hint' }, t('party.needCommunity'))); return; }
    try {
      const summary = (await gql(HOURS, { communityId: community.id })).serviceHours;
      const entries = nodes(summary.entries);
      clear(hoursBox,
        h('p', {}, t('party.hoursTotal', { hours: summary.total, n: summary.entryCount }), ' ', button(t('party.export'), exportHours)),
        entries.length ? h('table', {},
          h('thead', {}, h('tr', {}, [t('party.member'), t('party.hours'), t('party.kind'), t('report.note'), t('party.when'), ''].map((x) => h('th', { scope: 'col' }, x)))),
          h('tbody', {}, entries.map((e) => {
            const cell = h('td', {}, button(t('party.correct'), () => correct(e, cell)));
            return h('tr', {}, h('th', { scope: 'row' }, e.memberName), h('td', { class: 'num' }, e.hours), h('td', {}, t(`hoursKind.${e.kind}`)),
              h('td', {}, e.reason || e.sourceDescription || ''), h('td', {}, fmtTime(e.occurredAt, getLang())), cell);
          }))) : null);
    } catch (error) { showError(message, error); }
  }

  function correct(entry, cell) {
    const hours = h('input', { name: 'hours', inputmode: 'decimal', required: true });
    const reason = h('input', { name: 'reason', required: true, maxlength: 200 });
    const formMsg = notice();
    const key = uuid();
    const form = h('form', { class: 'card' }, field(t('party.correctHours'), hours), field(t('party.reason'), reason), formMsg, h('button', { type: 'submit', class: 'primary' }, t('save')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try { await mutate(CORRECT, { id: entry.id, hours: hours.value.trim(), reason: reason.value.trim(), key }); showOk(message, t('party.corrected')); loadHours(); } catch (error) { showError(formMsg, error); }
    });
    clear(cell, form);
    hours.focus();
  }

  async function exportHours() {
    try {
      const { file } = await mutate(EXPORT, { communityId: community.id });
      const bytes = Uint8Array.from(atob(file.contentBase64), (c) => c.charCodeAt(0));
      const url = URL.createObjectURL(new Blob([bytes], { type: file.contentType }));
      const link = h('a', { href: url, download: file.filename });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) { showError(message, error); }
  }

  loadRegistrations();
  loadHours();
}
