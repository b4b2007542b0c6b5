// Residents and households: vulnerable first, filters, personal data masked by the API as the
// viewer's role requires; a resident's household, care notes and contacts; roster import with
// a dry-run preview before anything is written.

import { gql, mutate } from '../api.js';
import { button, clear, field, h, nodes } from '../dom.js';
import { errorText, t } from '../i18n.js';
import { notice, section, select, showError, showOk } from '../widgets.js';
import { flagText } from './safety.js';

const VULN = 'vulnerability { isVulnerable elderlyLivingAlone disabled reducedMobility needsPowerOrMedicine pregnant youngChildren }';
const RESIDENTS = `query ConsoleResidents($areaId: ID, $vulnerable: Boolean, $flags: [VulnerabilityFlag!], $search: String, $after: String) {
  residents(areaId: $areaId, vulnerable: $vulnerable, vulnerability: $flags, search: $search, first: 50, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id displayName phone address personalDataVisible grid { name } household { id label } ${VULN} } }
  }
}`;
const RESIDENT = `query ConsoleResident($id: ID!) {
  resident(id: $id) {
    id displayName phone address careNotes personalDataVisible usesApp grid { name } ${VULN}
    household { id label address members { id displayName phone } }
    emergencyContacts { id name relation phone linkedResidentName }
  }
}`;
const IMPORT = `mutation ConsoleImportResidents($communityId: ID!, $dryRun: Boolean, $file: Upload!, $legalBasis: LegalBasis) {
  importResidents(communityId: $communityId, dryRun: $dryRun, file: $file, legalBasis: $legalBasis) {
    errors { field code message }
    report { dryRun applied totalRows created updated unchanged errorRows columns ignoredColumns
      fileProblems { column code message } rowsWithProblems { row action displayName problems { column code message } } }
  }
}`;
const FLAGS = ['ELDERLY_LIVING_ALONE', 'DISABLED', 'REDUCED_MOBILITY', 'NEEDS_POWER_OR_MEDICINE', 'PREGNANT', 'YOUNG_CHILDREN'];

export function render(ctx) {
  const { root, areaId } = ctx;
  const message = notice();
  const listBox = h('div');
  const detailBox = h('div');
  const importBox = h('div');
  const search = h('input', { type: 'search', name: 'search' });
  const vulnerable = h('input', { type: 'checkbox', name: 'vulnerable' });
  const flag = select([['', t('residents.any')], ...FLAGS.map((f) => [f, t(`flag.${f}`)])], '', { name: 'flag' });
  const filters = h('form', { class: 'toolbar', role: 'search' },
    field(t('residents.search'), search), field(t('residents.flag'), flag),
    h('label', { class: 'inline' }, vulnerable, t('residents.vulnerableOnly')),
    h('button', { type: 'submit' }, t('refresh')),
    button(t('residents.import'), () => openImport(), { id: 'open-import' }));
  filters.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  flag.addEventListener('change', () => load());
  vulnerable.addEventListener('change', () => load());
  clear(root, h('h2', {}, t('nav.residents')), filters, importBox, message, h('div', { class: 'columns' }, listBox, detailBox));

  let rows = [];
  async function load(after = null) {
    const variables = { areaId, search: search.value.trim() || null, after };
    if (vulnerable.checked) variables.vulnerable = true;
    if (flag.value) variables.flags = [flag.value];
    try {
      const data = await gql(RESIDENTS, variables);
      rows = after ? rows.concat(nodes(data.residents)) : nodes(data.residents);
      const more = data.residents.pageInfo.hasNextPage ? button('…', () => load(data.residents.pageInfo.endCursor)) : null;
      clear(listBox, h('p', { class: 'meta' }, t('residents.total', { n: data.residents.totalCount })),
        rows.length ? h('table', { id: 'residents' },
          h('thead', {}, h('tr', {}, [t('residents.name'), t('residents.grid'), t('residents.household'), t('residents.phone'), t('residents.vulnerability')].map((x) => h('th', { scope: 'col' }, x)))),
          h('tbody', {}, rows.map((r) => h('tr', {},
            h('th', { scope: 'row' }, button(r.displayName, () => openResident(r.id), { class: 'link' })),
            h('td', {}, r.grid.name), h('td', {}, r.household ? r.household.label : '—'),
            h('td', {}, r.phone || '—'),
            h('td', { class: 'vulnerable' }, r.vulnerability ? flagText(r.vulnerability) : (r.personalDataVisible ? '' : t('residents.masked'))))))) : h('p', { class: 'empty' }, t('residents.none')),
        more);
    } catch (error) { showError(message, error); }
  }

  async function openResident(id) {
    try {
      const r = (await gql(RESIDENT, { id })).resident;
      if (!r) return;
      clear(detailBox, section(r.displayName,
        h('dl', {},
          h('dt', {}, t('residents.grid')), h('dd', {}, r.grid.name),
          h('dt', {}, t('residents.phone')), h('dd', {}, r.phone || '—'),
          h('dt', {}, t('residents.address')), h('dd', {}, r.address || (r.personalDataVisible ? '—' : t('residents.masked'))),
          h('dt', {}, t('residents.vulnerability')), h('dd', { class: 'vulnerable' }, r.vulnerability ? flagText(r.vulnerability) || t('no') : t('residents.masked')),
          r.careNotes ? [h('dt', {}, t('residents.careNotes')), h('dd', {}, r.careNotes)] : null),
        r.household ? [h('h3', {}, `${t('residents.household')} ${r.household.label}`),
          h('ul', {}, r.household.members.map((m) => h('li', {}, `${m.displayName} ${m.phone || ''}`)))] : null,
        r.emergencyContacts.length ? [h('h3', {}, t('residents.contacts')),
          h('ul', {}, r.emergencyContacts.map((c) => h('li', {}, `${c.linkedResidentName || c.name} · ${c.relation} · ${c.phone || ''}`)))] : null));
    } catch (error) { showError(message, error); }
  }

  function openImport() {
    const communities = ctx.state.areas.filter((a) => a.kind === 'COMMUNITY' && ctx.state.inScope.has(a.id)
      && (a.id === areaId || a.ancestors.some((x) => x.id === areaId) || ctx.area.ancestors.some((x) => x.id === a.id)));
    const community = select(communities.map((c) => [c.id, c.name]), communities[0] && communities[0].id, { name: 'community' });
    const file = h('input', { type: 'file', name: 'file', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
    // Vulnerability and care notes of residents who have not consented need a legal basis (PIPL).
    const basis = select([['', t('legalBasis.none')], ['STATUTORY_DUTY', t('legalBasis.STATUTORY_DUTY')],
      ['EMERGENCY', t('legalBasis.EMERGENCY')]], '', { name: 'legalBasis' });
    const reportBox = h('div', { 'aria-live': 'polite' });
    const formMsg = notice();
    const run = (dryRun) => async () => {
      if (!file.files[0]) { showError(formMsg, { code: 'REQUIRED', field: 'file' }); return; }
      try {
        const variables = { communityId: community.value, dryRun };
        if (basis.value) variables.legalBasis = basis.value;
        const payload = await mutate(IMPORT, variables, { files: { file: file.files[0] } });
        drawReport(reportBox, payload.report, applyButton);
        if (!dryRun) showOk(formMsg, t('residents.applied', { created: payload.report.created, updated: payload.report.updated }));
      } catch (error) {
        showError(formMsg, error);
      }
    };
    const applyButton = button(t('residents.apply'), run(false), { class: 'primary', disabled: true, id: 'import-apply' });
    clear(importBox, h('div', { class: 'card' }, h('h3', {}, t('residents.import')),
      h('div', { class: 'row' }, field(t('residents.community'), community), field(t('residents.file'), file),
        field(t('residents.legalBasis'), basis)),
      h('div', { class: 'actions' }, button(t('residents.dryRun'), run(true), { id: 'import-dry-run' }), applyButton, button(t('back'), () => clear(importBox))),
      formMsg, reportBox));
    file.addEventListener('change', () => { applyButton.disabled = true; clear(reportBox); });
    basis.addEventListener('change', () => { applyButton.disabled = true; clear(reportBox); });
  }

  load();
}

function problemText(p) {
  // Roster problems carry the same codes as API errors, in lower case.
  const text = errorText(String(p.code || '').toUpperCase());
  return `${p.column ? `${p.column}: ` : ''}${text === errorText('INTERNAL') ? p.message : text}`;
}

function drawReport(box, report, applyButton) {
  applyButton.disabled = !report.dryRun || report.errorRows > 0 || report.fileProblems.length > 0;
  clear(box,
    h('p', { id: 'import-report' }, t('residents.report', { total: report.totalRows, created: report.created, updated: report.updated, unchanged: report.unchanged, errors: report.errorRows })),
    report.fileProblems.length ? h('ul', { class: 'notice error' }, report.fileProblems.map((p) => h('li', {}, problemText(p)))) : null,
    report.rowsWithProblems.length ? h('table', {},
      h('thead', {}, h('tr', {}, [t('residents.row'), t('residents.name'), t('residents.problems')].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, report.rowsWithProblems.map((row) => h('tr', {}, h('td', { class: 'num' }, row.row), h('td', {}, row.displayName),
        h('td', {}, row.problems.map(problemText).join('；')))))) : null);
}
