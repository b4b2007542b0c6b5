// The live safety-check board (报平安): counts by grid as answers arrive (safetyCheckCounts),
// the vulnerable residents still silent — with phone and address for those allowed to see
// them — and answering on someone's behalf; start and end a check.

import { gql, mutate } from '../api.js';
import { button, clear, field, fmtTime, h, nodes, uuid } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { subscribe } from '../ws.js';
import { confirmStep, notice, section, showError, showOk } from '../widgets.js';

const CHECKS = `query ConsoleSafetyChecks($areaId: ID!) {
  safetyChecks(areaId: $areaId, first: 20) {
    edges { node { id title status isDrill startedAt closedAt welfareDueAt area { id name } } }
  }
}`;
const COUNTS = 'total accountedFor safe needHelp unanswered vulnerable vulnerableAccountedFor';
const CHECK = `query ConsoleSafetyCheck($id: ID!) {
  node(id: $id) {
    ... on SafetyCheck {
      id title status isDrill startedAt closedAt welfareDueAt residentCount area { id name }
      counts { ${COUNTS} byGrid { area { id name } ${COUNTS} } }
      statuses(status: UNANSWERED, first: 100) {
        totalCount
        edges { node { id isVulnerable grid { name } resident { id displayName phone address personalDataVisible
          vulnerability { elderlyLivingAlone disabled reducedMobility needsPowerOrMedicine pregnant youngChildren } } } }
      }
    }
  }
}`;
const ON_COUNTS = `subscription ConsoleSafetyCounts($id: ID!) {
  safetyCheckCounts(safetyCheckId: $id) { safetyCheckId ${COUNTS} byGrid { area { id name } ${COUNTS} } }
}`;
const START = `mutation ConsoleStartSafetyCheck($areaId: ID!, $title: String, $isDrill: Boolean, $welfare: Int, $key: String) {
  startSafetyCheck(areaId: $areaId, title: $title, isDrill: $isDrill, welfareAfterMinutes: $welfare, idempotencyKey: $key) {
    errors { field code message } safetyCheck { id }
  }
}`;
const ANSWER = `mutation ConsoleAnswerFor($id: ID!, $residentId: ID!, $status: SafetyState!, $key: String) {
  answerSafetyCheck(safetyCheckId: $id, residentId: $residentId, status: $status, idempotencyKey: $key) {
    errors { field code message } status { id status }
  }
}`;
const CLOSE = `mutation ConsoleCloseSafetyCheck($id: ID!) {
  closeSafetyCheck(safetyCheckId: $id) { errors { field code message } safetyCheck { id status } }
}`;

const FLAGS = [
  ['elderlyLivingAlone', 'ELDERLY_LIVING_ALONE'], ['disabled', 'DISABLED'], ['reducedMobility', 'REDUCED_MOBILITY'],
  ['needsPowerOrMedicine', 'NEEDS_POWER_OR_MEDICINE'], ['pregnant', 'PREGNANT'], ['youngChildren', 'YOUNG_CHILDREN'],
];

export function flagText(vulnerability) {
  if (!vulnerability) return '';
  return FLAGS.filter(([key]) => vulnerability[key]).map(([, flag]) => t(`flag.${flag}`)).join('、');
}

export function render(ctx) {
  const { root, areaId } = ctx;
  const message = notice();
  const picker = h('div', { class: 'toolbar' });
  const board = h('div', { class: 'safety-board' });
  const startBox = h('div');
  let stop = null;
  let refreshTimer = null;
  clear(root, h('div', { class: 'toolbar' }, h('h2', {}, t('nav.safety')),
    button(t('safety.start'), () => openStart(), { id: 'start-check' })), startBox, message, picker, board);

  async function load() {
    try {
      const data = await gql(CHECKS, { areaId });
      const checks = nodes(data.safetyChecks);
      const chosen = checks.find((c) => c.id === ctx.itemId) || checks.find((c) => c.status === 'ACTIVE') || checks[0];
      clear(picker, checks.length ? h('label', { class: 'inline' }, t('safety.pick'),
        h('select', { id: 'check-picker', onchange: (e) => ctx.go('safety', e.target.value) }, checks.map((c) => h('option', { value: c.id, selected: chosen && c.id === chosen.id },
          `${c.title || t('nav.safety')} · ${c.area.name} · ${fmtTime(c.startedAt, getLang())}${c.isDrill ? ` · ${t('drill')}` : ''}${c.status === 'CLOSED' ? ` · ${t('safety.closed')}` : ''}`))))
        : h('p', { class: 'empty' }, t('safety.none')));
      if (chosen) await show(chosen.id);
      else clear(board);
    } catch (error) { showError(message, error); }
  }

  async function show(id) {
    const data = await gql(CHECK, { id });
    const check = data.node;
    if (!check) { clear(board); return; }
    drawBoard(check);
    if (stop) stop();
    delete board.dataset.live;
    stop = subscribe(ON_COUNTS, { id }, {
      next: (payload) => {
        const counts = payload.data && payload.data.safetyCheckCounts;
        if (!counts) return;
        // The first answer comes once the server listens: from here on no answer is missed.
        board.dataset.live = 'true';
        drawCounts(counts);
        // The list of silent people follows the counts, at most every two seconds.
        clearTimeout(refreshTimer);
        refreshTimer = setTimeout(() => gql(CHECK, { id }).then((d) => d.node && drawSilent(d.node)).catch(() => null), 2000);
      },
      error: (errors) => showError(message, { code: (errors[0] && errors[0].extensions && errors[0].extensions.code) || 'INTERNAL' }),
    });
  }

  const countsBox = h('div', { class: 'counts-box', 'aria-live': 'polite' });
  const gridsBox = h('div');
  const silentBox = h('div');

  function drawBoard(check) {
    const closeButton = check.status === 'ACTIVE'
      ? button(t('safety.close'), async () => {
        if (!(await confirmStep(message.parentElement, t('safety.closeConfirm'), null, { confirmLabel: t('safety.close'), danger: true }))) return;
        try { await mutate(CLOSE, { id: check.id }); showOk(message, t('safety.closed')); load(); } catch (error) { showError(message, error); }
      }, { class: 'danger' }) : null;
    clear(board,
      section(`${check.title || t('nav.safety')} · ${check.area.name}`,
        h('p', { class: 'meta' }, check.isDrill ? h('span', { class: 'badge drill' }, t('drill')) : null, ' ',
          `${t('safety.welfareDue')} ${fmtTime(check.welfareDueAt, getLang())}`, ' ', closeButton),
        countsBox, gridsBox),
      section(t('safety.silentVulnerable'), silentBox));
    drawCounts({ ...check.counts, safetyCheckId: check.id });
    drawSilent(check);
  }

  function drawCounts(counts) {
    const share = counts.total ? Math.round((100 * counts.accountedFor) / counts.total) : 0;
    clear(countsBox,
      h('div', { class: 'counts', id: 'safety-counts' },
        count('total', t('safety.total'), counts.total),
        count('accounted', t('safety.accounted'), counts.accountedFor),
        count('safe', t('safety.safe'), counts.safe),
        count('help', t('safety.needHelp'), counts.needHelp),
        count('unanswered', t('safety.unanswered'), counts.unanswered),
        count('vulnerable', t('safety.vulnerableAccounted'), `${counts.vulnerableAccountedFor}/${counts.vulnerable}`)),
      h('label', { class: 'progress' }, h('span', {}, `${t('safety.progress')} ${share}%`),
        h('progress', { max: 100, value: share })));
    const rows = (counts.byGrid || []).map((g) => h('tr', {},
      h('th', { scope: 'row' }, g.area.name),
      h('td', { class: 'num' }, g.total), h('td', { class: 'num' }, g.accountedFor), h('td', { class: 'num' }, g.safe),
      h('td', { class: 'num' }, g.needHelp), h('td', { class: 'num' }, g.unanswered),
      h('td', { class: 'num' }, `${g.vulnerableAccountedFor}/${g.vulnerable}`),
      h('td', {}, h('div', { class: 'bar', role: 'img', 'aria-label': `${g.total ? Math.round((100 * g.accountedFor) / g.total) : 0}%` },
        h('span', { class: `w${g.total ? Math.round((10 * g.accountedFor) / g.total) * 10 : 0}` })))));
    clear(gridsBox, h('h3', {}, t('safety.byGrid')), h('table', { id: 'safety-grids' },
      h('thead', {}, h('tr', {}, [t('safety.grid'), t('safety.total'), t('safety.accounted'), t('safety.safe'), t('safety.needHelp'),
        t('safety.unanswered'), t('safety.vulnerableAccounted'), t('safety.progress')].map((x, i) => h('th', { scope: 'col', class: i > 0 && i < 7 ? 'num' : '' }, x)))),
      h('tbody', {}, rows)));
  }

  function count(kind, label, value) {
    return h('div', { class: `count c-${kind}`, dataset: { count: kind } }, h('strong', {}, String(value)), label);
  }

  function drawSilent(check) {
    const rows = nodes(check.statuses);
    const people = rows.filter((s) => s.isVulnerable);
    const open = check.status === 'ACTIVE';
    // Who is vulnerable is personal data: a viewer without the right (a commander) gets null.
    if (!people.length && rows.some((s) => s.isVulnerable === null)) {
      clear(silentBox, h('p', { class: 'hint', id: 'silent-masked' }, t('safety.maskedList')));
      return;
    }
    clear(silentBox, people.length ? h('table', { id: 'silent-vulnerable' },
      h('thead', {}, h('tr', {}, [t('safety.resident'), t('safety.grid'), t('residents.vulnerability'), t('safety.phone'), t('safety.address'), t('safety.answer')].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, people.map((s) => {
        const r = s.resident;
        const rowMsg = notice();
        const answer = (status) => async () => {
          try {
            await mutate(ANSWER, { id: check.id, residentId: r.id, status, key: uuid() });
            showOk(rowMsg, t('safety.answered'));
          } catch (error) { showError(rowMsg, error); }
        };
        return h('tr', {},
          h('th', { scope: 'row' }, r.displayName), h('td', {}, s.grid.name), h('td', { class: 'vulnerable' }, flagText(r.vulnerability)),
          h('td', {}, r.phone || t('residents.masked')), h('td', {}, r.address || (r.personalDataVisible ? '—' : t('residents.masked'))),
          h('td', {}, open ? [button(t('safety.answerSafe'), answer('SAFE'), { 'aria-label': `${t('safety.answerSafe')}: ${r.displayName}` }), ' ',
            button(t('safety.answerHelp'), answer('NEED_HELP'), { class: 'danger', 'aria-label': `${t('safety.answerHelp')}: ${r.displayName}` })] : null, rowMsg));
      }))) : h('p', { class: 'empty' }, t('safety.noneSilent')));
  }

  function openStart() {
    const title = h('input', { name: 'title', maxlength: 100 });
    const drill = h('input', { type: 'checkbox', name: 'isDrill' });
    const welfare = h('input', { type: 'number', name: 'welfare', min: 5, max: 1440, placeholder: '60' });
    const formMsg = notice();
    const form = h('form', { class: 'card' }, h('h3', {}, t('safety.start')),
      field(t('safety.title'), title), field(t('safety.welfareDue'), welfare),
      h('label', { class: 'inline' }, drill, t('drill')), formMsg,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('safety.start')), button(t('back'), () => clear(startBox))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const key = form.dataset.key || (form.dataset.key = uuid());
      try {
        const payload = await mutate(START, { areaId, title: title.value.trim(), isDrill: drill.checked, welfare: welfare.value ? Number(welfare.value) : null, key });
        clear(startBox);
        showOk(message, t('safety.started'));
        ctx.go('safety', payload.safetyCheck.id);
      } catch (error) { showError(formMsg, error); }
    });
    clear(startBox, form);
    title.focus();
  }

  load();
  return () => { if (stop) stop(); clearTimeout(refreshTimer); };
}
