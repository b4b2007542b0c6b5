// The signed-in person's second factor: set up an authenticator app (staff may, and where the
// deployment requires it must, before their next login), or new recovery codes for a code.

import { regenerateRecoveryCodes } from '../api.js';
import { button, clear, field, h } from '../dom.js';
import { t } from '../i18n.js';
import { notice, section, showError } from '../widgets.js';
import { renderEnrolment } from './login.js';

export function render(ctx) {
  const { root } = ctx;
  const enrolBox = h('div');
  const codesBox = h('div');
  clear(root, h('h2', {}, t('nav.account')),
    h('p', {}, `${t('account.user')}: `, h('strong', {}, ctx.me.displayName || ctx.me.username), ` (${ctx.me.username})`),
    section(t('account.totp'), h('p', { class: 'hint' }, t('account.totpIntro')), enrolBox),
    section(t('account.recovery'), h('p', { class: 'hint' }, t('account.recoveryIntro')), codesBox));

  function drawEnrol() {
    clear(enrolBox, button(t('account.enrol'), () => renderEnrolment(enrolBox, () => drawEnrol(), { inline: true }), { id: 'start-enrol' }));
  }

  function drawCodes() {
    const otp = h('input', { name: 'otp', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 8, required: true });
    const message = notice();
    const out = h('div');
    const form = h('form', { class: 'card' }, field(t('login.otp'), otp), message,
      h('button', { type: 'submit', class: 'primary' }, t('account.newCodes')), out);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const codes = await regenerateRecoveryCodes(otp.value.replace(/\s+/g, ''));
        clear(out, h('p', {}, t('enrol.codesIntro')), h('ul', { class: 'recovery-codes' }, codes.map((c) => h('li', {}, h('code', {}, c)))));
        otp.value = '';
      } catch (error) { showError(message, error); }
    });
    clear(codesBox, form);
  }

  drawEnrol();
  drawCodes();
}
