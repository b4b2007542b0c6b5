// Sign in with username and password; a second step asks for the authenticator code when the
// API answers OTP_REQUIRED (staff second factor, where the server has it switched on).

import { login } from '../api.js';
import { button, clear, field, h } from '../dom.js';
import { getLang, setLang, t } from '../i18n.js';
import { notice, showError } from '../widgets.js';

export function renderLogin(app, done) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const otp = h('input', { name: 'otp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6,8}' });
  const otpField = field(t('login.otp'), otp);
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
      await login(username.value.trim(), password.value, otpField.hidden ? null : otp.value.trim());
      done();
    } catch (error) {
      if (error.code === 'OTP_REQUIRED') {
        otpField.hidden = false;
        otp.focus();
      }
      showError(message, error);
    } finally {
      submit.disabled = false;
    }
  });
  clear(app, h('main', { id: 'main', class: 'login-page' }, form));
  username.focus();
}
