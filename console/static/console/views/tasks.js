// The live task board: the tasks of the area (tasks + tasksInArea), one task's offers,
// people and timeline (task + taskUpdated); create a task by clicking the map or typing an
// address; edit, close, cancel; close many at once. The map shows tasks, volunteers on duty,
// open reports and the area's grids, each only as far as the API lets this person see.

import { gql, mutate } from '../api.js';
import { button, clear, field, fmtTime, h, nodes, uuid } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { createMap, dot, toMap } from '../map.js';
import { subscribe } from '../ws.js';
import { confirmStep, notice, section, select, showError, showOk } from '../widgets.js';
import { bulkCloseForm } from './bulkclose.js';
import { drawGrids } from './grids.js';

const TASK_ROW = `id title status priority headcount filledCount isDrill deadline version canManage createdAt
  address location { latitude longitude } area { id name }`;
const TASKS = `query ConsoleTasks($areaId: ID, $activeOnly: Boolean, $after: String) {
  tasks(areaId: $areaId, activeOnly: $activeOnly, first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { ${TASK_ROW} } }
  }
}`;
const TASK = `query ConsoleTask($id: ID!) {
  task(id: $id) {
    ${TASK_ROW} description startsAt placesLeft statusReason createdByName checkinRadiusM closedAt
    requiredSkills { code name }
    people { id status personName phone assignedAt onSiteAt completedAt endReason }
    offers { id status personName phone via wave offeredAt expiresAt answeredAt answeredVia }
    timeline(first: 100) { edges { node { id kind at actorName subjectName } } }
  }
}`;
const ON_AREA = `subscription ConsoleTasksInArea($areaId: ID!) {
  tasksInArea(areaId: $areaId) { created change task { ${TASK_ROW} } }
}`;
const ON_TASK = `subscription ConsoleTaskUpdated($taskId: ID!) {
  taskUpdated(taskId: $taskId) { change task { id version status } }
}`;
const SKILLS = 'query ConsoleSkills { skills(first: 100) { edges { node { code name } } } }';
const ON_DUTY = `query ConsoleOnDuty($areaId: ID) {
  volunteers(areaId: $areaId, onDuty: true, first: 100) {
    edges { node { id displayName homeLocation { latitude longitude } temporaryLocation { location { latitude longitude } } } }
  }
}`;
const OPEN_REPORTS = `query ConsoleMapReports($areaId: ID) {
  reports(areaId: $areaId, first: 100) { edges { node { id kind status description location { latitude longitude } } } }
}`;
const AREA_AT = `query ConsoleAreaAt($location: LocationInput!) {
  areaAt(location: $location) { byBoundary grid { id name } area { id name } }
}`;
const CREATE = `mutation ConsoleCreateTask($input: CreateTaskInput!, $key: String) {
  createTask(input: $input, idempotencyKey: $key) { errors { field code message } task { id } }
}`;
const UPDATE = `mutation ConsoleUpdateTask($id: ID!, $version: Int!, $changes: TaskChangesInput!, $key: String) {
  updateTask(taskId: $id, expectedVersion: $version, changes: $changes, idempotencyKey: $key) { errors { field code message } task { id version } }
}`;
const HEADCOUNT = `mutation ConsoleHeadcount($id: ID!, $headcount: Int!, $key: String) {
  setTaskHeadcount(taskId: $id, headcount: $headcount, idempotencyKey: $key) { errors { field code message } task { id version } }
}`;
const CLOSE = `mutation ConsoleCloseTask($id: ID!, $version: Int, $key: String) {
  closeTask(taskId: $id, expectedVersion: $version, idempotencyKey: $key) { errors { field code message } task { id status } }
}`;
const CANCEL = `mutation ConsoleCancelTask($id: ID!, $reason: String, $version: Int, $key: String) {
  cancelTask(taskId: $id, reason: $reason, expectedVersion: $version, idempotencyKey: $key) { errors { field code message } task { id status } }
}`;
const PRIORITY_COLOR = { ROUTINE: '#2f80ed', URGENT: '#f2994a', LIFE_SAFETY: '#c0392b' };
const CLOSED = new Set(['DONE', 'CANCELLED']);

export function render(ctx) {
  const { root, areaId, area } = ctx;
  const tasks = new Map();
  const unsubscribers = [];
  let activeOnly = true;
  let pendingPoint = null;
  let detail = null;

  const message = notice();
  const list = h('div', { class: 'task-list' });
  const detailBox = h('div', { class: 'task-detail', 'aria-live': 'polite' });
  const mapBox = h('div', { class: 'map', id: 'task-map', role: 'region', 'aria-label': t('map.label') });
  const formBox = h('div', { class: 'task-form' });
  const filter = h('input', { type: 'checkbox', checked: true, id: 'active-only' });
  filter.addEventListener('change', () => { activeOnly = filter.checked; load(); });
  const newButton = button(t('task.new'), () => openCreate(), { class: 'primary', id: 'new-task' });
  const bulkButton = button(t('task.bulkClose'), () => bulkClose(), { id: 'bulk-close' });
  const windUpButton = button(t('bulk.open'), () => bulkCloseForm(formBox, {
    areaId, areaName: area.name, onDone: () => load(), onBack: () => clear(formBox),
  }), { id: 'bulk-after' });

  clear(root, h('div', { class: 'board' },
    h('div', { class: 'board-main' },
      h('div', { class: 'toolbar' },
        h('h2', {}, t('nav.tasks')),
        newButton,
        h('label', { class: 'inline' }, filter, t('task.activeOnly')),
        bulkButton, windUpButton),
      message, formBox, list, detailBox),
    h('div', { class: 'board-map' }, mapBox, h('p', { class: 'hint' }, t('map.clickToCreate')))));

  const map = createMap(mapBox, { onClick: (point, latlng) => { pendingPoint = point; openCreate(latlng); } });
  const taskLayer = map.layer('tasks', t('layer.tasks'));
  const pinLayer = map.layer('pin');

  async function load() {
    try {
      const data = await gql(TASKS, { areaId, activeOnly });
      tasks.clear();
      nodes(data.tasks).forEach((task) => tasks.set(task.id, task));
      drawList();
      drawMap(true);
    } catch (error) { showError(message, error); }
  }

  function drawList() {
    const rows = [...tasks.values()]
      .filter((task) => !activeOnly || !CLOSED.has(task.status))
      .map((task) => h('tr', { dataset: { taskId: task.id }, class: task.id === (detail && detail.id) ? 'selected' : '' },
        h('td', {}, h('input', { type: 'checkbox', class: 'pick', value: task.id, 'aria-label': `${t('task.pick')} ${task.title}`, disabled: !task.canManage || CLOSED.has(task.status) })),
        h('td', {}, h('a', { href: `#/${encodeURIComponent(areaId)}/tasks/${encodeURIComponent(task.id)}`, class: 'task-title' }, task.title),
          task.isDrill ? h('span', { class: 'badge drill' }, t('drill')) : null),
        h('td', {}, h('span', { class: `badge prio-${task.priority.toLowerCase()}` }, t(`priority.${task.priority}`))),
        h('td', { class: 'task-status' }, h('span', { class: `status st-${task.status.toLowerCase()}` }, t(`taskStatus.${task.status}`))),
        h('td', { class: 'task-filled' }, `${task.filledCount}/${task.headcount}`),
        h('td', {}, task.area.name),
        h('td', {}, fmtTime(task.deadline, getLang()))));
    clear(list, rows.length
      ? h('table', { class: 'tasks' },
        h('caption', { class: 'sr-only' }, t('nav.tasks')),
        h('thead', {}, h('tr', {}, ['', t('task.title'), t('task.priority'), t('task.status'), t('task.filled'), t('task.area'), t('task.deadline')].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, rows))
      : h('p', { class: 'empty' }, t('task.none')));
  }

  function drawMap(fit) {
    taskLayer.clearLayers();
    const points = [];
    for (const task of tasks.values()) {
      const at = toMap(task.location);
      if (!at || (activeOnly && CLOSED.has(task.status))) continue;
      points.push(at);
      const marker = dot(map.L, at, { color: PRIORITY_COLOR[task.priority], label: `${task.title} · ${t(`taskStatus.${task.status}`)}`, className: 'task-marker' });
      marker.on('click', (event) => { map.L.DomEvent.stopPropagation(event); ctx.go('tasks', task.id); });
      marker.addTo(taskLayer);
    }
    if (fit && points.length) map.fit(points);
  }

  async function drawContext() {
    // Volunteers on duty and open reports: only what the API returns for this person.
    const [duty, reports] = await Promise.allSettled([gql(ON_DUTY, { areaId }), gql(OPEN_REPORTS, { areaId })]);
    const dutyLayer = map.layer('duty', t('layer.onDuty'));
    const seen = [];
    if (duty.status === 'fulfilled') {
      nodes(duty.value.volunteers).forEach((v) => {
        const at = toMap(v.temporaryLocation ? v.temporaryLocation.location : v.homeLocation);
        if (at) { seen.push(at); dot(map.L, at, { color: '#27ae60', radius: 6, label: `${t('layer.onDuty')}: ${v.displayName}` }).addTo(dutyLayer); }
      });
    }
    const reportLayer = map.layer('reports', t('layer.reports'));
    if (reports.status === 'fulfilled') {
      nodes(reports.value.reports).filter((r) => r.status === 'SUBMITTED' || r.status === 'ACKNOWLEDGED').forEach((r) => {
        const at = toMap(r.location);
        if (at) { seen.push(at); dot(map.L, at, { color: '#8e44ad', radius: 6, label: `${t(`reportKind.${r.kind}`)}: ${r.description.slice(0, 40)}` }).addTo(reportLayer); }
      });
    }
    const own = await drawGrids(map, ctx);
    if (!tasks.size && own && own.center) { map.fit([[own.center.latitude, own.center.longitude]]); return; }
    // An area without a centre: an empty board opens where its people are.
    if (!tasks.size && seen.length) map.fit(seen);
  }

  // Which grid a pin is in, by the API's boundaries (areaAt): the create form preselects it.
  async function whereIs(point) {
    try {
      const data = await gql(AREA_AT, { location: point });
      return data.areaAt;
    } catch (error) { return null; }
  }

  function onAreaEvent(payload) {
    const event = payload.data && payload.data.tasksInArea;
    if (!event) return;
    tasks.set(event.task.id, event.task);
    drawList();
    drawMap(false);
  }

  // --- One task -------------------------------------------------------------------------
  let stopTask = null;
  async function openDetail(taskId) {
    if (stopTask) { stopTask(); stopTask = null; }
    if (!taskId) { detail = null; clear(detailBox); return; }
    await loadDetail(taskId);
    stopTask = subscribe(ON_TASK, { taskId }, { next: () => loadDetail(taskId), error: () => {} });
  }

  async function loadDetail(taskId) {
    try {
      const data = await gql(TASK, { id: taskId });
      detail = data.task;
      if (!detail) { clear(detailBox, h('p', { class: 'notice error', role: 'alert' }, t('area.noAccess'))); return; }
      tasks.set(detail.id, { ...tasks.get(detail.id), ...detail });
      drawList();
      drawDetail();
    } catch (error) { showError(message, error); }
  }

  function drawDetail() {
    const task = detail;
    const lang = getLang();
    const actionMsg = notice();
    const open = !CLOSED.has(task.status);
    const actions = task.canManage && open ? h('div', { class: 'actions' },
      button(t('task.edit'), () => openEdit(task)),
      button(t('task.close'), () => closeOne(task, actionMsg), { id: 'close-task', class: 'primary' }),
      button(t('task.cancel'), () => cancelOne(task, actionMsg), { class: 'danger' })) : null;
    clear(detailBox, section(task.title,
      h('p', { class: 'meta' },
        h('span', { class: `status st-${task.status.toLowerCase()}`, id: 'detail-status' }, t(`taskStatus.${task.status}`)), ' ',
        h('span', { class: `badge prio-${task.priority.toLowerCase()}` }, t(`priority.${task.priority}`)), ' ',
        task.isDrill ? h('span', { class: 'badge drill' }, t('drill')) : null, ' ',
        `${t('task.filled')} ${task.filledCount}/${task.headcount}`, ' · ', task.area.name,
        task.address ? ` · ${task.address}` : ''),
      task.description ? h('p', {}, task.description) : null,
      task.requiredSkills.length ? h('p', {}, `${t('task.skills')}: ${task.requiredSkills.map((s) => s.name).join('、')}`) : null,
      actions, actionMsg,
      h('h3', {}, t('task.people')),
      task.people.length ? h('ul', { class: 'people', id: 'task-people' }, task.people.map((p) => h('li', {},
        h('strong', {}, p.personName), ' ', h('span', { class: 'status' }, t(`assignment.${p.status}`)),
        p.phone ? ` · ${p.phone}` : '', ` · ${fmtTime(p.assignedAt, lang)}`))) : h('p', { class: 'empty', id: 'task-people' }, t('task.nobody')),
      h('h3', {}, t('task.offers')),
      task.offers.length ? h('ul', { class: 'offers' }, task.offers.map((o) => h('li', {},
        `${o.personName} · ${t(`offer.${o.status}`)} · ${t('task.wave')} ${o.wave} · ${fmtTime(o.offeredAt, lang)}`,
        o.phone ? ` · ${o.phone}` : ''))) : h('p', { class: 'empty' }, t('task.noOffers')),
      h('h3', {}, t('task.timeline')),
      h('ol', { class: 'timeline' }, nodes(task.timeline).map((e) => h('li', {},
        h('time', { datetime: e.at }, fmtTime(e.at, lang)), ' ', t(`event.${e.kind}`),
        e.subjectName ? ` · ${e.subjectName}` : '', e.actorName ? ` (${e.actorName})` : '')))));
    const at = toMap(task.location);
    if (at) map.map.panTo(at);
  }

  async function closeOne(task, region) {
    const ok = await confirmStep(region.parentElement, t('task.closeConfirm', { title: task.title }), h('p', {}, t('task.closeExplain')), { confirmLabel: t('task.close') });
    if (!ok) return;
    try {
      await mutate(CLOSE, { id: task.id, version: task.version, key: uuid() });
      showOk(region, t('task.closed'));
      await loadDetail(task.id);
    } catch (error) { await handleStale(error, task, region); }
  }

  async function cancelOne(task, region) {
    const reason = h('input', { name: 'reason', maxlength: 200 });
    const ok = await confirmStep(region.parentElement, t('task.cancelConfirm', { title: task.title }), field(t('task.reason'), reason), { confirmLabel: t('task.cancel'), danger: true });
    if (!ok) return;
    try {
      await mutate(CANCEL, { id: task.id, reason: reason.value, version: task.version, key: uuid() });
      showOk(region, t('task.cancelled'));
      await loadDetail(task.id);
    } catch (error) { await handleStale(error, task, region); }
  }

  async function handleStale(error, task, region) {
    if (error.code === 'STALE_VERSION') await loadDetail(task.id);
    showError(region, error);
  }

  async function bulkClose() {
    const ids = [...list.querySelectorAll('input.pick:checked')].map((box) => box.value);
    if (!ids.length) { showError(message, { code: 'REQUIRED', field: 'tasks' }); return; }
    const ok = await confirmStep(message.parentElement, t('task.bulkConfirm', { n: ids.length }), h('p', {}, t('task.closeExplain')), { confirmLabel: t('task.bulkClose') });
    if (!ok) return;
    let done = 0;
    const failures = [];
    // One closeTask per task, each with its own version check and idempotency key.
    for (const id of ids) {
      try { await mutate(CLOSE, { id, version: null, key: uuid() }); done += 1; } catch (error) { failures.push(error); }
    }
    if (failures.length) showError(message, failures[0]); else showOk(message, t('task.bulkDone', { n: done }));
    load();
  }

  // --- Create and edit -------------------------------------------------------------------
  async function openCreate(latlng) {
    pinLayer.clearLayers();
    if (latlng) dot(map.L, [latlng.lat, latlng.lng], { color: '#000', radius: 9, label: t('layer.newTask') }).addTo(pinLayer);
    const grids = ctx.state.areas.filter((a) => a.kind === 'GRID' && ctx.state.inScope.has(a.id)
      && (a.id === areaId || a.ancestors.some((x) => x.id === areaId)));
    if (!grids.length) { showError(message, { code: 'NOT_A_GRID' }); return; }
    const [skills, at] = await Promise.all([
      gql(SKILLS).then((d) => nodes(d.skills)).catch(() => []),
      pendingPoint ? whereIs(pendingPoint) : Promise.resolve(null),
    ]);
    const pinGrid = at && at.grid && grids.find((g) => g.id === at.grid.id);
    const title = h('input', { name: 'title', required: true, maxlength: 200 });
    const description = h('textarea', { name: 'description', rows: 2 });
    const address = h('input', { name: 'address', maxlength: 300 });
    const grid = select(grids.map((g) => [g.id, g.name]), (pinGrid || grids[0]).id, { name: 'grid' });
    const priority = select(['ROUTINE', 'URGENT', 'LIFE_SAFETY'].map((p) => [p, t(`priority.${p}`)]), 'ROUTINE', { name: 'priority' });
    const headcount = h('input', { name: 'headcount', type: 'number', min: 1, max: 50, value: '1' });
    const deadline = h('input', { name: 'deadline', type: 'datetime-local' });
    const skillBox = h('select', { name: 'skills', multiple: true, size: Math.min(4, Math.max(2, skills.length)) },
      skills.map((s) => h('option', { value: s.code }, s.name)));
    const drill = h('input', { type: 'checkbox', name: 'isDrill' });
    const formMsg = notice();
    const where = pendingPoint
      ? t('task.whereMap', { lat: pendingPoint.latitude.toFixed(5), lng: pendingPoint.longitude.toFixed(5) })
      : t('task.whereNone');
    const form = h('form', { class: 'card', 'aria-label': t('task.new') },
      h('h3', {}, t('task.new')),
      h('p', { class: 'hint', id: 'task-where' }, where),
      pendingPoint ? h('p', { class: pinGrid ? 'meta' : 'notice error', id: 'pin-grid' }, pinGrid
        ? t(at.byBoundary ? 'task.pinInGrid' : 'task.pinNearGrid', { grid: pinGrid.name })
        : t('task.pinOutside')) : null,
      field(t('task.title'), title), field(t('task.description'), description),
      field(t('task.address'), address, t('task.addressHint')),
      h('div', { class: 'row' }, field(t('task.grid'), grid), field(t('task.priority'), priority), field(t('task.headcount'), headcount)),
      h('div', { class: 'row' }, field(t('task.deadline'), deadline), skills.length ? field(t('task.skills'), skillBox) : null),
      h('label', { class: 'inline' }, drill, t('task.isDrill')),
      formMsg,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('task.create')),
        button(t('back'), () => { clear(formBox); pinLayer.clearLayers(); pendingPoint = null; })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const input = {
        areaId: grid.value, title: title.value.trim(), description: description.value.trim(), address: address.value.trim(),
        priority: priority.value, headcount: Number(headcount.value || 1), isDrill: drill.checked,
        requiredSkills: [...skillBox.selectedOptions].map((o) => o.value),
      };
      if (pendingPoint) input.location = pendingPoint;
      if (deadline.value) input.deadline = new Date(deadline.value).toISOString();
      try {
        const payload = await mutate(CREATE, { input, key: form.dataset.key || (form.dataset.key = uuid()) });
        clear(formBox);
        pinLayer.clearLayers();
        pendingPoint = null;
        showOk(message, t(input.location ? 'task.created' : 'task.createdAtCentre'));
        await load();
        ctx.go('tasks', payload.task.id);
      } catch (error) { showError(formMsg, error); }
    });
    clear(formBox, form);
    title.focus();
  }

  function openEdit(task) {
    const title = h('input', { name: 'title', value: task.title, maxlength: 200 });
    const description = h('textarea', { name: 'description', rows: 2 });
    description.value = task.description || '';
    const address = h('input', { name: 'address', value: task.address || '' });
    const priority = select(['ROUTINE', 'URGENT', 'LIFE_SAFETY'].map((p) => [p, t(`priority.${p}`)]), task.priority);
    const headcount = h('input', { type: 'number', min: 1, max: 50, value: String(task.headcount) });
    const formMsg = notice();
    const form = h('form', { class: 'card' }, h('h3', {}, t('task.edit')),
      field(t('task.title'), title), field(t('task.description'), description), field(t('task.address'), address),
      h('div', { class: 'row' }, field(t('task.priority'), priority), field(t('task.headcount'), headcount)),
      formMsg,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('save')), button(t('back'), () => clear(formBox))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const changes = { title: title.value.trim(), description: description.value.trim(), address: address.value.trim(), priority: priority.value };
        const payload = await mutate(UPDATE, { id: task.id, version: task.version, changes, key: uuid() });
        if (Number(headcount.value) !== task.headcount) {
          await mutate(HEADCOUNT, { id: task.id, headcount: Number(headcount.value), key: uuid() });
        }
        clear(formBox);
        showOk(message, t('saved'));
        await loadDetail(payload.task.id);
      } catch (error) {
        if (error.code === 'STALE_VERSION') await loadDetail(task.id);
        showError(formMsg, error);
      }
    });
    clear(formBox, form);
    title.focus();
  }

  load().then(() => openDetail(ctx.itemId));
  drawContext().catch(() => null);
  unsubscribers.push(subscribe(ON_AREA, { areaId }, { next: onAreaEvent, error: (errors) => showError(message, { code: (errors[0] && errors[0].extensions && errors[0].extensions.code) || 'INTERNAL' }) }));
  map.invalidate();
  return () => {
    unsubscribers.forEach((fn) => fn());
    if (stopTask) stopTask();
    map.remove();
  };
}
