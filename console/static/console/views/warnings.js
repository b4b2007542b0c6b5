// Incoming warnings (CAP feeds, signed webhooks, our sensors) for the area, and the proposals
// they make to switch modes: a commander sees the warning and the plan a switch would run,
// then accepts (into the proposed mode or another) or declines, with a confirmation step.
// New proposals arrive live (warningProposed).

import { gql, mutate } from '../api.js';
import { button, clear, field, fmtTime, h, nodes, uuid } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { subscribe } from '../ws.js';
import { confirmStep, notice, section, select, showError, showOk } from '../widgets.js';
import { planSteps } from './modes.js';

const WARNING_FIELDS = 'id event headline description instruction senderName sourceName sensorCode severity urgency certainty msgType status sent expires receivedAt isActive areas { id name }';
const PROPOSAL_FIELDS = `id status mode createdAt decidedAt secondsToDecide note decidedByName switchedTo canDecide planVersion
  area { id name mode effectiveMode } warning { ${WARNING_FIELDS} }
  plan { id name version isEnabled area { id name } actions { type params } }`;
const LOAD = `query ConsoleWarnings($areaId: ID) {
  pending: warningProposals(areaId: $areaId, status: PENDING, first: 50) { edges { node { ${PROPOSAL_FIELDS} } } }
  decided: warningProposals(areaId: $areaId, first: 20) { edges { node { ${PROPOSAL_FIELDS} } } }
  warnings: incomingWarnings(areaId: $areaId, first: 30) { edges { node { ${WARNING_FIELDS} } } }
}`;
const ON_PROPOSAL = `subscription ConsoleWarningProposed($areaId: ID!) { warningProposed(areaId: $areaId) { id status } }`;
const DECIDE = `mutation ConsoleDecideProposal($id: ID!, $accept: Boolean!, $mode: Mode, $note: String, $key: String) {
  decideWarningProposal(proposalId: $id, accept: $accept, mode: $mode, note: $note, idempotencyKey: $key) {
    errors { field code message } proposal { id status switchedTo }
  }
}`;

export function render(ctx) {
  const { root, areaId } = ctx;
  const message = notice();
  const pendingBox = h('div', { id: 'pending-proposals', 'aria-live': 'polite' });
  const decidedBox = h('div');
  const warningsBox = h('div', { id: 'incoming-warnings' });
  clear(root, h('div', { class: 'toolbar' }, h('h2', {}, t('nav.warnings')), h('span', { class: 'hint' }, t('warnings.live'))), message,
    section(t('warnings.pending'), pendingBox), section(t('warnings.incoming'), warningsBox), section(t('warnings.decided'), decidedBox));

  async function load() {
    try {
      const data = await gql(LOAD, { areaId });
      const pending = nodes(data.pending);
      clear(pendingBox, pending.length ? pending.map(proposalCard) : h('p', { class: 'empty' }, t('warnings.nonePending')));
      const decided = nodes(data.decided).filter((p) => p.status !== 'PENDING');
      clear(decidedBox, decided.length ? h('table', {},
        h('thead', {}, h('tr', {}, [t('warnings.headline'), t('task.area'), t('warnings.proposed'), t('task.status'), t('warnings.decidedBy'), t('warnings.toDecide')].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, decided.map((p) => h('tr', {}, h('th', { scope: 'row' }, p.warning.headline || p.warning.event), h('td', {}, p.area.name),
          h('td', {}, t(`mode.${p.mode}`)), h('td', {}, t(`proposal.${p.status}`), p.switchedTo ? ` → ${t(`mode.${p.switchedTo}`)}` : ''),
          h('td', {}, p.decidedByName || '—'), h('td', { class: 'num' }, p.secondsToDecide === null ? '—' : t('review.minutes', { n: (p.secondsToDecide / 60).toFixed(1) }))))))
        : h('p', { class: 'empty' }, t('none')));
      const warnings = nodes(data.warnings);
      clear(warningsBox, warnings.length ? h('ul', { class: 'warning-list' }, warnings.map(warningItem)) : h('p', { class: 'empty' }, t('warnings.none')));
    } catch (error) { showError(message, error); }
  }

  function warningHead(w) {
    return h('p', {},
      h('span', { class: `badge sev-${w.severity.toLowerCase()}` }, t(`capSeverity.${w.severity}`)), ' ',
      h('strong', {}, w.headline || w.event), w.status !== 'ACTUAL' ? h('span', { class: 'badge drill' }, w.status) : null,
      h('br'), h('small', { class: 'meta' }, [w.senderName || w.sourceName || w.sensorCode, `${t('warnings.sent')} ${fmtTime(w.sent, getLang())}`,
        w.expires ? `${t('warnings.expires')} ${fmtTime(w.expires, getLang())}` : null, w.areas.map((a) => a.name).join('、')].filter(Boolean).join(' · ')));
  }

  function warningItem(w) {
    return h('li', { class: `card${w.isActive ? '' : ' inactive'}` }, warningHead(w),
      w.description ? h('p', {}, w.description) : null, w.instruction ? h('p', { class: 'hint' }, w.instruction) : null,
      w.isActive ? null : h('p', { class: 'hint' }, t('warnings.inactive')));
  }

  function proposalCard(p) {
    const cardMsg = notice();
    const mode = select(['STANDBY', 'EMERGENCY'].map((m) => [m, t(`mode.${m}`)]), p.mode, { name: 'mode', 'aria-label': t('warnings.acceptInto') });
    const note = h('input', { name: 'note', maxlength: 200 });
    const confirmBox = h('div');
    const decide = (accept) => async () => {
      const question = accept
        ? t('warnings.acceptConfirm', { area: p.area.name, mode: t(`mode.${mode.value}`) })
        : t('warnings.declineConfirm', { area: p.area.name });
      const details = accept ? (p.plan && p.plan.isEnabled
        ? h('div', { class: 'plan-preview' }, h('p', {}, t('modes.planWillRun', { name: p.plan.name, version: p.plan.version, area: p.plan.area.name })), planSteps(p.plan))
        : h('p', {}, t('modes.noPlan'))) : null;
      if (!(await confirmStep(confirmBox, question, details, { confirmLabel: accept ? t('warnings.accept') : t('warnings.decline'), danger: accept }))) return;
      try {
        const payload = await mutate(DECIDE, { id: p.id, accept, mode: accept ? mode.value : null, note: note.value.trim(), key: uuid() });
        showOk(message, t(accept ? 'warnings.accepted' : 'warnings.declined', { area: p.area.name }));
        if (payload.proposal.switchedTo) await ctx.refreshAreas();
        load();
      } catch (error) { showError(cardMsg, error); }
    };
    return h('article', { class: 'card proposal', dataset: { proposalId: p.id } },
      warningHead(p.warning),
      h('p', {}, t('warnings.proposal', { area: p.area.name, mode: t(`mode.${p.mode}`), now: t(`mode.${p.area.effectiveMode}`) })),
      p.plan ? h('p', { class: 'meta' }, t('modes.planWillRun', { name: p.plan.name, version: p.plan.version, area: p.plan.area.name })) : null,
      p.canDecide ? h('div', { class: 'actions' },
        field(t('warnings.acceptInto'), mode), field(t('report.note'), note),
        button(t('warnings.accept'), decide(true), { class: 'primary accept-proposal' }),
        button(t('warnings.decline'), decide(false), { class: 'decline-proposal' })) : h('p', { class: 'hint' }, t('warnings.cannotDecide')),
      confirmBox, cardMsg);
  }

  load();
  return subscribe(ON_PROPOSAL, { areaId }, { next: () => load(), error: () => {} });
}
