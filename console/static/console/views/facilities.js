// Facilities of the area (避难场所、医疗点、供水点、充电点) with live occupancy: the list and the
// map follow facilitiesInArea (every opening, closing, check-in and check-out). Those allowed
// (canManage) open and close them.

import { gql, mutate } from '../api.js';
import { button, clear, fmtTime, h, nodes } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { createMap, dot, toMap } from '../map.js';
import { subscribe } from '../ws.js';
import { confirmStep, notice, showError, showOk } from '../widgets.js';
import { drawGrids } from './grids.js';

const FIELDS = `id name code kind status address capacity occupancy room wheelchairAccessible elderlyCare statusChangedAt canManage
  area { id name } location { latitude longitude }`;
const FACILITIES = `query ConsoleFacilities($areaId: ID, $after: String) {
  facilities(areaId: $areaId, first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { ${FIELDS} } } }
}`;
const ON_FACILITY = `subscription ConsoleFacilitiesInArea($areaId: ID!) { facilitiesInArea(areaId: $areaId) { ${FIELDS} } }`;
const SET_STATUS = `mutation ConsoleFacilityStatus($id: ID!, $status: FacilityStatus!, $reason: String) {
  setFacilityStatus(facilityId: $id, status: $status, reason: $reason) { errors { field code message } facility { ${FIELDS} } }
}`;
const COLOR = { OPEN: '#27ae60', FULL: '#c0392b', CLOSED: '#7f8c8d' };

export function render(ctx) {
  const { root, areaId } = ctx;
  const facilities = new Map();
  const message = notice();
  const listBox = h('div', { id: 'facility-list', 'aria-live': 'polite' });
  const mapBox = h('div', { class: 'map small', role: 'region', 'aria-label': t('map.label') });
  clear(root, h('div', { class: 'toolbar' }, h('h2', {}, t('nav.facilities')), h('span', { class: 'hint' }, t('facility.live'))),
    message, h('div', { class: 'board' }, h('div', {}, listBox), h('div', { class: 'board-map' }, mapBox)));
  const map = createMap(mapBox);
  const layer = map.layer('facilities', t('nav.facilities'));

  async function load() {
    try {
      let after = null;
      facilities.clear();
      for (let page = 0; page < 10; page += 1) {
        const data = await gql(FACILITIES, { areaId, after });
        nodes(data.facilities).forEach((f) => facilities.set(f.id, f));
        if (!data.facilities.pageInfo.hasNextPage) break;
        after = data.facilities.pageInfo.endCursor;
      }
      draw(true);
    } catch (error) { showError(message, error); }
  }

  function draw(fit) {
    // Shelters first, the fullest first: where room runs out is what a commander watches.
    const rows = [...facilities.values()].sort((a, b) => (a.kind === 'SHELTER' ? 0 : 1) - (b.kind === 'SHELTER' ? 0 : 1)
      || share(b) - share(a) || a.name.localeCompare(b.name));
    const lang = getLang();
    const shelters = rows.filter((f) => f.kind === 'SHELTER' && f.status !== 'CLOSED');
    const capacity = shelters.reduce((sum, f) => sum + f.capacity, 0);
    const inside = shelters.reduce((sum, f) => sum + f.occupancy, 0);
    clear(listBox, rows.length ? [
      h('p', { class: 'meta', id: 'shelter-total' }, t('facility.total', { n: shelters.length, inside, capacity })),
      h('table', { class: 'facilities' },
        h('thead', {}, h('tr', {}, [t('facility.name'), t('facility.kind'), t('facility.status'), t('facility.occupancy'), t('facility.room'), t('task.area'), ''].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, rows.map((f) => h('tr', { dataset: { facilityId: f.id } },
          h('th', { scope: 'row' }, f.name, h('br'), h('small', { class: 'hint' }, [f.address, f.wheelchairAccessible ? t('facility.wheelchair') : null, f.elderlyCare ? t('facility.elderly') : null].filter(Boolean).join(' · '))),
          h('td', {}, t(`facilityKind.${f.kind}`)),
          h('td', {}, h('span', { class: `status fs-${f.status.toLowerCase()}` }, t(`facilityStatus.${f.status}`)), h('br'), h('small', { class: 'hint' }, fmtTime(f.statusChangedAt, lang))),
          h('td', { class: 'num occupancy' }, f.capacity ? `${f.occupancy}/${f.capacity}` : '—',
            f.capacity ? h('div', { class: 'bar', role: 'img', 'aria-label': `${Math.round(share(f) * 100)}%` }, h('span', { class: `w${Math.min(100, Math.round(share(f) * 10) * 10)}` })) : null),
          h('td', { class: 'num' }, f.capacity ? f.room : '—'),
          h('td', {}, f.area.name),
          h('td', {}, f.canManage ? statusButton(f) : null)))))]
      : h('p', { class: 'empty' }, t('facility.none')));
    layer.clearLayers();
    const points = [];
    rows.forEach((f) => {
      const at = toMap(f.location);
      if (!at) return;
      points.push(at);
      dot(map.L, at, { color: COLOR[f.status], label: `${f.name} · ${t(`facilityStatus.${f.status}`)}${f.capacity ? ` · ${f.occupancy}/${f.capacity}` : ''}` }).addTo(layer);
    });
    if (fit) map.fit(points);
  }

  function share(f) { return f.capacity ? f.occupancy / f.capacity : 0; }

  function statusButton(f) {
    const cellMsg = notice();
    const next = f.status === 'CLOSED' ? 'OPEN' : 'CLOSED';
    const cell = h('div', {}, button(t(next === 'OPEN' ? 'facility.open' : 'facility.close'), async () => {
      const question = t(next === 'OPEN' ? 'facility.openConfirm' : 'facility.closeConfirm', { name: f.name, n: f.occupancy });
      if (!(await confirmStep(cell, question, null, { confirmLabel: t('confirm'), danger: next === 'CLOSED' }))) return;
      try {
        const payload = await mutate(SET_STATUS, { id: f.id, status: next, reason: '' });
        facilities.set(f.id, payload.facility);
        showOk(message, t('saved'));
        draw(false);
      } catch (error) { showError(cellMsg, error); }
    }, { class: next === 'CLOSED' ? 'danger' : 'primary' }), cellMsg);
    return cell;
  }

  load();
  drawGrids(map, ctx).catch(() => null);
  map.invalidate();
  const stop = subscribe(ON_FACILITY, { areaId }, {
    next: (payload) => {
      const f = payload.data && payload.data.facilitiesInArea;
      if (!f) return;
      facilities.set(f.id, f);
      draw(false);
    },
    error: () => {},
  });
  return () => { stop(); map.remove(); };
}
