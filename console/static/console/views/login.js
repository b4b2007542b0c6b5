// Sign in with username and password. The staff second factor, as the API offers it:
// OTP_REQUIRED asks for the authenticator's code (or a recovery code); OTP_ENROLMENT_REQUIRED
// (the deployment requires an app and this account has none) walks through enrolment with the
// refusal's enrolmentToken: a QR code to scan (or the secret to type), the app's first code, then the
// recovery codes shown once before the console opens.

import { beginTotpEnrolment, confirmTotpEnrolment, login } from '../api.js';
import { button, clear, field, h } from '../dom.js';
import { getLang, setLang, t } from '../i18n.js';
import { qrSvg } from '../qr.js';
import { notice, showError } from '../widgets.js';

export function renderLogin(app, done) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const otp = h('input', { name: 'otp', autocomplete: 'one-time-code', maxlength: 20 });
  const otpField = field(t('login.otp'), otp, t('login.otpHint'));
  otpField.hidden = true;
  const message = notice();
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  const form = h('form', { class: 'login', novalidate: true },
    h('h1', {}, t('title')),
    h('p', { class: 'hint' }, t('login.intro')),
    field(t('login.username'), username),
    field(t('login.password'), password),
    otpField,
    message,
    submit,
    button(getLang() === 'en' ? '中文' : 'English', () => { setLang(getLang() === 'en' ? 'zh' : 'en'); renderLogin(app, done); },
      { class: 'link', lang: getLang() === 'en' ? 'zh-Hans' : 'en' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await login(username.value.trim(), password.value, otpField.hidden ? null : otp.value.replace(/\s+/g, ''));
      done();
    } catch (error) {
      if (error.code === 'OTP_REQUIRED' || error.code === 'OTP_INVALID') {
        otpField.hidden = false;
        otp.value = '';
        otp.focus();
      }
      if (error.code === 'OTP_ENROLMENT_REQUIRED' && error.extra && error.extra.enrolmentToken) {
        renderEnrolment(app, done, { username: username.value.trim(), enrolmentToken: error.extra.enrolmentToken });
        return;
      }
      showError(message, error);
    } finally {
      submit.disabled = false;
    }
  });
  clear(app, h('main', { id: 'main', class: 'login-page' }, form));
  username.focus();
}

/**
 * Set up an authenticator app. Used during a login (enrolmentToken: the login completes at the
 * end) and from the account screen when signed in (no token; `container` is that screen).
 */
export async function renderEnrolment(container, done, { username = null, enrolmentToken = null, inline = false } = {}) {
  const message = notice();
  const wrap = (...children) => (inline
    ? clear(container, h('div', { class: 'card enrol' }, ...children))
    : clear(container, h('main', { id: 'main', class: 'login-page' }, h('div', { class: 'login enrol' }, h('h1', {}, t('title')), ...children))));
  let begun;
  try {
    begun = await beginTotpEnrolment(enrolmentToken);
  } catch (error) {
    wrap(message, button(t('back'), () => done(false)));
    showError(message, error);
    return;
  }
  const code = h('input', { name: 'totp-code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 8, required: true });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'enrol-confirm' }, t('enrol.confirm'));
  const form = h('form', { class: 'enrol-form', novalidate: true },
    h('h2', { tabindex: '-1', id: 'enrol-title' }, t('enrol.title')),
    h('p', {}, t('enrol.intro')),
    h('ol', { class: 'enrol-steps' },
      h('li', {}, t('enrol.stepApp')),
      h('li', {}, t('enrol.stepScan'), h('div', { class: 'qr-box', id: 'totp-qr' }, qrSvg(begun.otpauthUri, { label: t('enrol.qrLabel') })),
        t('enrol.stepSecret'), ' ', h('code', { id: 'totp-secret', class: 'secret' }, begun.secret.replace(/(.{4})/g, '$1 ').trim()),
        h('br'), h('small', { class: 'hint' }, t('enrol.uriHint'), ' ', h('code', { id: 'totp-uri', class: 'uri' }, begun.otpauthUri))),
      h('li', {}, t('enrol.stepCode'))),
    field(t('enrol.code'), code),
    message,
    h('div', { class: 'actions' }, submit, button(t('back'), () => done(false))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const result = await confirmTotpEnrolment(code.value.replace(/\s+/g, ''), enrolmentToken, username);
      showRecoveryCodes(result);
    } catch (error) {
      showError(message, error);
      code.value = '';
      code.focus();
    } finally {
      submit.disabled = false;
    }
  });
  wrap(form);
  form.querySelector('#enrol-title').focus();

  function showRecoveryCodes(result) {
    const next = button(t('enrol.saved'), () => {
      if (result.signIn) result.signIn();
      done(true);
    }, { class: 'primary', id: 'enrol-done' });
    wrap(h('section', { 'aria-labelledby': 'codes-title' },
      h('h2', { id: 'codes-title', tabindex: '-1' }, t('enrol.codesTitle')),
      h('p', {}, t('enrol.codesIntro')),
      h('ul', { class: 'recovery-codes', id: 'recovery-codes' }, result.recoveryCodes.map((c) => h('li', {}, h('code', {}, c)))),
      h('div', { class: 'actions' }, next)));
    container.querySelector('#codes-title').focus();
  }
}
