// The console's shell: login, the area switcher with mode badges, navigation between screens
// (#/<areaId>/<screen>[/<itemId>]), the language switch, and the live connection status.

import { gql, hasSession, logout, onAuthChange } from './api.js';
import { button, clear, h, nodes } from './dom.js';
import { errorText, getLang, setLang, t } from './i18n.js';
import { disconnect, onStatus, subscribe } from './ws.js';
import { renderLogin } from './views/login.js';
import { SCREENS } from './views/index.js';
import { modeBadge } from './widgets.js';

const app = document.getElementById('app');
const state = { me: null, areas: [], byId: new Map(), inScope: new Set(), cleanup: null };

const AREA_FIELDS = 'id name code kind mode effectiveMode depth parent { id } ancestors { id } activeDrill { mode startedAt area { id } }';
const ME = `query ConsoleMe {
  me { id username displayName roles { role area { id name } } }
}`;
const AREAS = `query ConsoleAreas($after: String) {
  areas(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { ${AREA_FIELDS} } }
  }
}`;
const AREA_NOW = `query ConsoleAreaNow($id: ID!) { area(id: $id) { id mode effectiveMode activeDrill { mode startedAt area { id } } } }`;
const MODE_CHANGED = `subscription ConsoleModeChanged($areaId: ID!) {
  areaModeChanged(areaId: $areaId) { area { id mode effectiveMode } mode effectiveMode isDrill }
}`;

document.documentElement.lang = getLang() === 'en' ? 'en' : 'zh-Hans';
onAuthChange((signedIn) => { if (!signedIn) { disconnect(); start(); } });
window.addEventListener('hashchange', () => { if (state.me) route(); });
start();

async function start() {
  if (state.cleanup) { state.cleanup(); state.cleanup = null; }
  state.me = null;
  if (!hasSession()) {
    renderLogin(app, () => start());
    return;
  }
  clear(app, h('p', { class: 'loading' }, t('loading')));
  try {
    await loadMe();
  } catch (error) {
    if (!hasSession()) return; // signed out: the auth listener shows the login form
    clear(app, h('p', { class: 'notice error', role: 'alert' }, errorText(error.code)));
    return;
  }
  renderShell();
  route();
}

async function loadMe() {
  const data = await gql(ME);
  state.me = data.me;
  const query = AREAS;
  let after = null;
  const areas = [];
  for (let page = 0; page < 20; page += 1) {
    const result = await gql(query, { after });
    areas.push(...nodes(result.areas));
    if (!result.areas.pageInfo.hasNextPage) break;
    after = result.areas.pageInfo.endCursor;
  }
  const roleAreas = new Set((state.me.roles || []).map((r) => r.area.id));
  state.areas = sortTree(areas);
  state.byId = new Map(areas.map((a) => [a.id, a]));
  state.inScope = new Set(areas.filter((a) => roleAreas.has(a.id) || a.ancestors.some((x) => roleAreas.has(x.id))).map((a) => a.id));
}

function sortTree(areas) {
  const children = new Map();
  areas.forEach((a) => {
    const key = a.parent ? a.parent.id : null;
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(a);
  });
  const ids = new Set(areas.map((a) => a.id));
  const roots = areas.filter((a) => !a.parent || !ids.has(a.parent.id));
  const out = [];
  const walk = (a) => {
    out.push(a);
    (children.get(a.id) || []).sort((x, y) => x.code.localeCompare(y.code)).forEach(walk);
  };
  roots.sort((x, y) => x.depth - y.depth || x.code.localeCompare(y.code)).forEach(walk);
  return out;
}

function defaultArea() {
  const roles = state.me.roles || [];
  const first = roles.find((r) => state.byId.has(r.area.id));
  return first ? first.area.id : (state.areas[0] && state.areas[0].id);
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { areaId: parts[0] || null, screen: parts[1] || 'tasks', itemId: parts[2] || null };
}

export function go(areaId, screen, itemId = null) {
  const hash = `#/${[areaId, screen, itemId].filter(Boolean).map(encodeURIComponent).join('/')}`;
  if (location.hash === hash) route(); else location.hash = hash;
}

let shell = null;
let stopStatus = null;

function renderShell() {
  const status = h('span', { class: 'live-status', role: 'status', 'aria-live': 'polite' }, '');
  if (stopStatus) stopStatus();
  stopStatus = onStatus((value) => { status.textContent = t(`live.${value}`); status.dataset.state = value; });
  const select = h('select', { id: 'area-switcher', 'aria-label': t('area.switch') });
  select.addEventListener('change', () => go(select.value, parseHash().screen));
  const badge = h('span', { id: 'area-badge' });
  const langButton = button(getLang() === 'en' ? '中文' : 'English', () => {
    setLang(getLang() === 'en' ? 'zh' : 'en');
    renderShell();
    route();
  }, { class: 'link', lang: getLang() === 'en' ? 'zh-Hans' : 'en', title: t('language.switch') });
  const nav = h('nav', { class: 'screens', 'aria-label': t('nav.label') },
    h('ul', {}, SCREENS.map((s) => h('li', {}, h('a', { href: '#', dataset: { screen: s.id } }, t(`nav.${s.id}`))))));
  const main = h('main', { id: 'main', tabindex: '-1' });
  clear(app,
    h('header', { class: 'top' },
      h('h1', {}, t('title')),
      h('div', { class: 'area-pick' }, select, badge),
      h('div', { class: 'who' }, status,
        h('span', { class: 'user' }, state.me.displayName || state.me.username),
        langButton,
        button(t('logout'), () => logout(), { class: 'link' }))),
    h('div', { class: 'body' }, nav, main));
  shell = { select, badge, nav, main };
}

function fillSwitcher(areaId) {
  clear(shell.select, state.areas.map((a) => h('option', {
    value: a.id, disabled: !state.inScope.has(a.id), selected: a.id === areaId,
  }, `${'\u3000'.repeat(Math.max(0, a.depth - 1))}${a.name} · ${t(`mode.${a.effectiveMode}`)}${a.activeDrill ? ` · ${t('drill')}` : ''}`)));
  if (!state.byId.has(areaId)) shell.select.prepend(h('option', { value: '', selected: true, disabled: true }, t('area.none')));
}

let modeUnsubscribe = null;

function route() {
  if (state.cleanup) { state.cleanup(); state.cleanup = null; }
  if (modeUnsubscribe) { modeUnsubscribe(); modeUnsubscribe = null; }
  let { areaId, screen, itemId } = parseHash();
  if (!areaId) { areaId = defaultArea(); if (areaId) { go(areaId, screen); return; } }
  const area = state.byId.get(areaId);
  fillSwitcher(areaId);
  shell.nav.querySelectorAll('a').forEach((link) => {
    link.href = `#/${encodeURIComponent(areaId || '')}/${link.dataset.screen}`;
    if (link.dataset.screen === screen) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  });
  if (!area || !state.inScope.has(areaId)) {
    // Another grid's URL (or a stale one): nothing of it is asked for, nothing shown.
    clear(shell.badge);
    clear(shell.main, h('p', { class: 'notice error', role: 'alert', id: 'no-access' }, t('area.noAccess')));
    return;
  }
  clear(shell.badge, modeBadge(area));
  modeUnsubscribe = subscribe(MODE_CHANGED, { areaId }, {
    next: (payload) => {
      const event = payload.data && payload.data.areaModeChanged;
      if (!event) return;
      area.effectiveMode = event.effectiveMode;
      if (event.area.id === area.id) area.mode = event.area.mode;
      clear(shell.badge, modeBadge(area));
      // A drill started, changed or ended here or above: the overlay is read again.
      if (event.isDrill) {
        gql(AREA_NOW, { id: area.id }).then((data) => {
          if (!data.area) return;
          Object.assign(area, data.area);
          clear(shell.badge, modeBadge(area));
          fillSwitcher(area.id);
        }).catch(() => null);
      }
    },
    error: () => {},
  });
  const view = SCREENS.find((s) => s.id === screen) || SCREENS[0];
  document.title = `${t(`nav.${view.id}`)} · ${area.name} · ${t('title')}`;
  const ctx = {
    root: shell.main, area, areaId, itemId, me: state.me, state,
    go: (next, item) => go(areaId, next || view.id, item),
    refreshAreas: async () => { await loadMe(); fillSwitcher(areaId); const a = state.byId.get(areaId); if (a) clear(shell.badge, modeBadge(a)); return a; },
  };
  clear(shell.main);
  const cleanup = view.render(ctx);
  state.cleanup = typeof cleanup === 'function' ? cleanup : null;
}
