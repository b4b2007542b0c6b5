// Small pieces every screen uses: mode badges, error lines by code, confirmation steps.

import { button, h, nextId } from './dom.js';
import { errorText, t } from './i18n.js';

export function modeBadge(area) {
  const mode = area.effectiveMode || area.mode;
  const drill = area.activeDrill ? area.activeDrill.mode : null;
  return h('span', { class: 'badges' },
    h('span', { class: `badge mode-${mode.toLowerCase()}` }, t(`mode.${mode}`)),
    drill ? h('span', { class: 'badge drill' }, `${t('drill')} · ${t(`mode.${drill}`)}`) : null);
}

/** A status region for the results of actions (announced by screen readers). */
export function notice() {
  return h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
}

/** Show an API error by its code, in plain words (with the field when the API names one). */
export function showError(region, error) {
  const code = (error && error.code) || 'INTERNAL';
  const all = (error && error.extra && error.extra.all) || [{ code, field: error && error.field }];
  region.className = 'notice error';
  region.setAttribute('role', 'alert');
  region.dataset.code = code;
  region.replaceChildren(...all.map((e, i) => h('span', { class: 'error-line' },
    i ? h('br') : null,
    fieldName(e.field) ? `${fieldName(e.field)}：` : '',
    errorText(e.code))));
}

export function showOk(region, text) {
  region.className = 'notice ok';
  region.setAttribute('role', 'status');
  delete region.dataset.code;
  region.textContent = text;
}

// The field an error names, in words; a field without words is left out (the code's own
// sentence still says what is wrong) rather than shown as an API name like `welfareAfterMinutes`.
function fieldName(path) {
  if (!path) return '';
  const key = `field.${String(path).split('.')[0]}`;
  const text = t(key);
  return text === key ? '' : text;
}

/**
 * A confirmation step: the summary and two buttons replace `container`'s content until the
 * person confirms (resolves true) or goes back (false). Focus moves to the question.
 */
export function confirmStep(container, question, details, { confirmLabel, danger = false } = {}) {
  return new Promise((resolve) => {
    const id = nextId('confirm');
    const box = h('div', { class: `confirm${danger ? ' danger' : ''}`, role: 'group', 'aria-labelledby': id },
      h('p', { id, tabindex: '-1', class: 'question' }, question),
      details,
      h('div', { class: 'actions' },
        button(confirmLabel || t('confirm'), () => { box.remove(); resolve(true); }, { class: danger ? 'danger' : 'primary' }),
        button(t('back'), () => { box.remove(); resolve(false); })));
    container.append(box);
    box.querySelector('.question').focus();
  });
}

export function select(options, value, attrs = {}) {
  return h('select', attrs, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

export function section(title, ...children) {
  const id = nextId('sec');
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}
