// Hazard points (风险点) of the area, the inspections that are due or overdue first, and an
// inspection recorded in one step; all on the map.

import { gql, mutate } from '../api.js';
import { button, clear, field, fmtTime, h, nodes, uuid } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { createMap, dot, toMap } from '../map.js';
import { notice, section, select, showError, showOk } from '../widgets.js';
import { drawGrids } from './grids.js';

const FIELDS = 'id name kind severity address isOverdue nextInspectionDue lastInspectedAt grid { name } location { latitude longitude }';
const HAZARDS = `query ConsoleHazards($areaId: ID) {
  overdue: overdueInspections(areaId: $areaId, first: 100) { totalCount edges { node { ${FIELDS} } } }
  all: hazardPoints(areaId: $areaId, first: 100) { totalCount edges { node { ${FIELDS} } } }
}`;
const INSPECT = `mutation ConsoleInspect($id: ID!, $result: InspectionResult!, $findings: String, $key: String) {
  recordInspection(hazardPointId: $id, result: $result, findings: $findings, idempotencyKey: $key) { errors { field code message } hazardPoint { id } }
}`;
const COLOR = { LOW: '#7f8c8d', MEDIUM: '#f1c40f', HIGH: '#e67e22', CRITICAL: '#c0392b' };

export function render(ctx) {
  const { root, areaId } = ctx;
  const message = notice();
  const overdueBox = h('div');
  const allBox = h('div');
  const mapBox = h('div', { class: 'map small', role: 'region', 'aria-label': t('map.label') });
  clear(root, h('h2', {}, t('hazards.title')), message, h('div', { class: 'board' },
    h('div', {}, section(t('hazards.overdue'), overdueBox), section(t('hazards.title'), allBox)), h('div', { class: 'board-map' }, mapBox)));
  const map = createMap(mapBox);
  const layer = map.layer('hazards', t('layer.hazards'));

  function table(points, withInspect) {
    return h('table', {}, h('thead', {}, h('tr', {}, [t('hazards.name'), t('hazards.kind'), t('hazards.severity'), t('residents.grid'), t('hazards.due'), t('hazards.last'), ''].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, points.map((p) => h('tr', {},
        h('th', { scope: 'row' }, p.name, p.isOverdue ? h('span', { class: 'badge mode-emergency' }, t('hazards.overdue')) : null),
        h('td', {}, t(`hazardKind.${p.kind}`)), h('td', {}, t(`severity.${p.severity}`)), h('td', {}, p.grid.name),
        h('td', {}, fmtTime(p.nextInspectionDue, getLang())), h('td', {}, fmtTime(p.lastInspectedAt, getLang())),
        h('td', {}, withInspect ? button(t('hazards.inspect'), (e) => inspect(p, e.target.closest('td'))) : null)))));
  }

  function inspect(point, cell) {
    const result = select(['OK', 'ISSUES_FOUND', 'DANGER'].map((r) => [r, t(`inspection.${r}`)]), 'OK');
    const findings = h('input', { name: 'findings', maxlength: 500 });
    const formMsg = notice();
    const key = uuid();
    const form = h('form', { class: 'card' }, field(t('hazards.result'), result), field(t('hazards.findings'), findings), formMsg,
      h('button', { type: 'submit', class: 'primary' }, t('save')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try { await mutate(INSPECT, { id: point.id, result: result.value, findings: findings.value.trim(), key }); showOk(message, t('hazards.recorded')); load(); } catch (error) { showError(formMsg, error); }
    });
    clear(cell, form);
    result.focus();
  }

  async function load() {
    try {
      const data = await gql(HAZARDS, { areaId });
      const overdue = nodes(data.overdue);
      const all = nodes(data.all);
      clear(overdueBox, overdue.length ? table(overdue, true) : h('p', { class: 'empty' }, t('hazards.noneOverdue')));
      clear(allBox, all.length ? table(all, true) : h('p', { class: 'empty' }, t('hazards.none')));
      layer.clearLayers();
      const points = [];
      all.forEach((p) => {
        const at = toMap(p.location);
        if (!at) return;
        points.push(at);
        dot(map.L, at, { color: COLOR[p.severity], label: `${p.name} · ${t(`severity.${p.severity}`)}${p.isOverdue ? ` · ${t('hazards.overdue')}` : ''}` }).addTo(layer);
      });
      map.fit(points);
    } catch (error) { showError(message, error); }
  }

  load();
  drawGrids(map, ctx).catch(() => null);
  map.invalidate();
  return () => map.remove();
}
