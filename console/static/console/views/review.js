// The after-action report (复盘): what happened in the area over a period — timeline, safety
// checks, tasks, people, messages — with the full report to download (signed link).

import { gql } from '../api.js';
import { clear, field, fmtTime, h } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { notice, section, showError } from '../widgets.js';

const REPORT = `query ConsoleAfterAction($areaId: ID!, $since: DateTime!, $until: DateTime!, $drills: Boolean, $language: LanguageEnum) {
  afterActionReport(areaId: $areaId, since: $since, until: $until, drills: $drills, language: $language) {
    area { name }
    timeline { at kind area title detail }
    safetyChecks { safetyCheck { id title isDrill } total accountedFor safe needHelp unanswered vulnerable vulnerableAccountedFor welfareTasks needHelpTasks secondsTo90Percent }
    tasks { created staffed done unstaffed cancelled medianSecondsToStaff p90SecondsToStaff }
    people { volunteersOnTasks partyMembersOnTasks volunteersCalled partyMembersCalled answeredAvailable answeredUnavailable }
    messages { pushes smsWritten smsSent smsDelivered smsFailed smsRefused }
    openTasksTotal silentVulnerableTotal
    html: downloadUrl(format: HTML) pdf: downloadUrl(format: PDF) xlsx: downloadUrl(format: XLSX)
  }
}`;

function localInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function minutes(seconds) {
  return seconds === null || seconds === undefined ? '—' : t('review.minutes', { n: (seconds / 60).toFixed(1) });
}

function pairs(rows) {
  return h('table', { class: 'pairs' }, h('tbody', {}, rows.map(([label, value]) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'num' }, String(value))))));
}

export function render(ctx) {
  const { root, areaId } = ctx;
  const now = new Date();
  const since = h('input', { type: 'datetime-local', name: 'since', value: localInput(new Date(now.getTime() - 7 * 86400000)) });
  const until = h('input', { type: 'datetime-local', name: 'until', value: localInput(now) });
  const drills = h('input', { type: 'checkbox', name: 'drills' });
  const message = notice();
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'toolbar' }, field(t('review.since'), since), field(t('review.until'), until),
    h('label', { class: 'inline' }, drills, t('review.drills')), h('button', { type: 'submit', class: 'primary' }, t('review.run')));
  form.addEventListener('submit', (e) => { e.preventDefault(); run(); });
  clear(root, h('h2', {}, t('review.title')), form, message, out);

  async function run() {
    try {
      const report = (await gql(REPORT, {
        areaId, since: new Date(since.value).toISOString(), until: new Date(until.value).toISOString(), drills: drills.checked,
        language: getLang() === 'en' ? 'EN' : 'ZH_HANS',
      })).afterActionReport;
      const lang = getLang();
      clear(out,
        // Signed links (valid for minutes, made for this person): the browser opens or saves
        // them without the token. The PDF and the workbook are the same report.
        h('p', { class: 'downloads', id: 'review-downloads' }, `${t('review.download')}: `,
          h('a', { href: report.html, target: '_blank', rel: 'noopener', id: 'review-download' }, t('review.html')), ' · ',
          h('a', { href: report.pdf, download: '', id: 'review-pdf' }, 'PDF'), ' · ',
          h('a', { href: report.xlsx, download: '', id: 'review-xlsx' }, 'Excel (XLSX)'), ' ',
          h('small', { class: 'hint' }, t('review.linkExpires'))),
        report.openTasksTotal || report.silentVulnerableTotal ? h('p', { class: 'notice' },
          t('review.stillOpen', { tasks: report.openTasksTotal, silent: report.silentVulnerableTotal })) : null,
        h('div', { class: 'columns' },
          section(t('review.tasks'), pairs([[t('review.created'), report.tasks.created], [t('review.staffed'), report.tasks.staffed], [t('review.done'), report.tasks.done],
            [t('review.unstaffed'), report.tasks.unstaffed], [t('review.cancelled'), report.tasks.cancelled],
            [t('review.medianStaff'), minutes(report.tasks.medianSecondsToStaff)], [t('review.p90Staff'), minutes(report.tasks.p90SecondsToStaff)]])),
          section(t('review.people'), pairs([[t('review.volunteersOnTasks'), report.people.volunteersOnTasks], [t('review.partyOnTasks'), report.people.partyMembersOnTasks],
            [t('review.called'), report.people.volunteersCalled + report.people.partyMembersCalled], [t('review.available'), report.people.answeredAvailable]])),
          section(t('review.messages'), pairs([[t('review.pushes'), report.messages.pushes], [t('review.smsSent'), report.messages.smsSent],
            [t('review.smsDelivered'), report.messages.smsDelivered], [t('review.smsFailed'), report.messages.smsFailed]]))),
        section(t('review.checks'), report.safetyChecks.length ? h('table', {},
          h('thead', {}, h('tr', {}, [t('safety.title'), t('safety.total'), t('safety.safe'), t('safety.needHelp'), t('safety.unanswered'), t('safety.vulnerableAccounted'), t('review.welfare'), t('review.t90')].map((x) => h('th', { scope: 'col' }, x)))),
          h('tbody', {}, report.safetyChecks.map((c) => h('tr', {}, h('th', { scope: 'row' }, c.safetyCheck.title || t('nav.safety'), c.safetyCheck.isDrill ? h('span', { class: 'badge drill' }, t('drill')) : null),
            h('td', { class: 'num' }, c.total), h('td', { class: 'num' }, c.safe), h('td', { class: 'num' }, c.needHelp), h('td', { class: 'num' }, c.unanswered),
            h('td', { class: 'num' }, `${c.vulnerableAccountedFor}/${c.vulnerable}`), h('td', { class: 'num' }, c.welfareTasks), h('td', { class: 'num' }, minutes(c.secondsTo90Percent)))))) : h('p', { class: 'empty' }, t('none'))),
        section(t('review.timeline'), report.timeline.length ? h('ol', { class: 'timeline' }, report.timeline.map((e) => h('li', {},
          h('time', { datetime: e.at }, fmtTime(e.at, lang)), ` · ${e.area} · ${e.title}`, e.detail ? ` — ${e.detail}` : ''))) : h('p', { class: 'empty' }, t('none'))));
    } catch (error) { showError(message, error); }
  }

  run();
}
