// The public GraphQL API over HTTP, as a mobile app uses it: a bearer access token on every
// request, refreshed once when it expires (one refresh at a time: the API rotates refresh
// tokens and treats a reused one as theft). Token storage is explained in console/README.md:
// the access token lives only in memory, the refresh token in sessionStorage.

const REFRESH_KEY = 'linli.console.refresh';
const config = JSON.parse(document.getElementById('console-config').textContent);
const endpoint = config.graphqlPath;

export class ApiError extends Error {
  constructor(code, message, field = null, extra = {}) {
    super(message || code);
    this.code = code;
    this.field = field;
    this.extra = extra;
  }
}

let accessToken = null;
let refreshing = null;
const listeners = new Set();
// Tabs of this console share the newest refresh token so that a duplicated tab does not
// present a rotated one (which would sign the person out everywhere).
const channel = 'BroadcastChannel' in window ? new BroadcastChannel('linli-console-auth') : null;
if (channel) {
  channel.onmessage = (event) => {
    if (event.data && event.data.type === 'rotated') sessionStorage.setItem(REFRESH_KEY, event.data.refreshToken);
    if (event.data && event.data.type === 'logout') forget();
  };
}

export function getConfig() { return config; }
export function currentToken() { return accessToken; }
export function hasSession() { return Boolean(accessToken || sessionStorage.getItem(REFRESH_KEY)); }
export function onAuthChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }

function setTokens(token, refreshToken) {
  accessToken = token;
  if (refreshToken) {
    sessionStorage.setItem(REFRESH_KEY, refreshToken);
    if (channel) channel.postMessage({ type: 'rotated', refreshToken });
  }
  listeners.forEach((fn) => fn(true));
}

function forget() {
  accessToken = null;
  sessionStorage.removeItem(REFRESH_KEY);
  listeners.forEach((fn) => fn(false));
}

async function post(body, token) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let init;
  if (body instanceof FormData) {
    init = { method: 'POST', headers, body };
  } else {
    headers['Content-Type'] = 'application/json';
    init = { method: 'POST', headers, body: JSON.stringify(body) };
  }
  let response;
  try {
    response = await fetch(endpoint, { ...init, credentials: 'omit', cache: 'no-store' });
  } catch (error) {
    throw new ApiError('NETWORK', String(error));
  }
  let json;
  try {
    json = await response.json();
  } catch (error) {
    throw new ApiError(response.status === 413 ? 'FILE_TOO_LARGE' : 'INTERNAL', `HTTP ${response.status}`);
  }
  return json;
}

function firstError(json) {
  const error = json && json.errors && json.errors[0];
  if (!error) return null;
  const extensions = error.extensions || {};
  return new ApiError(extensions.code || 'INTERNAL', error.message, null, extensions);
}

// A multipart request (graphql-multipart-request-spec) when files are given.
function encode(query, variables, files) {
  if (!files) return { query, variables };
  const form = new FormData();
  const map = {};
  const vars = { ...variables };
  Object.keys(files).forEach((name, index) => {
    vars[name] = null;
    map[String(index)] = [`variables.${name}`];
  });
  form.append('operations', JSON.stringify({ query, variables: vars }));
  form.append('map', JSON.stringify(map));
  Object.values(files).forEach((file, index) => form.append(String(index), file, file.name));
  return form;
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** Run a query or mutation; resolves to `data`, rejects with ApiError (by its code). */
export async function gql(query, variables = {}, { files = null, anonymous = false } = {}) {
  if (!anonymous && !accessToken && sessionStorage.getItem(REFRESH_KEY)) await refresh();
  let json = await post(encode(query, variables, files), anonymous ? null : accessToken);
  let error = firstError(json);
  // SERVICE_UNAVAILABLE is retryable: the server changed nothing. A few tries, backing off.
  for (let attempt = 0; error && error.code === 'SERVICE_UNAVAILABLE' && attempt < 3; attempt += 1) {
    await sleep(400 * 2 ** attempt);
    json = await post(encode(query, variables, files), anonymous ? null : accessToken);
    error = firstError(json);
  }
  if (error && error.code === 'TOKEN_EXPIRED' && !anonymous) {
    await refresh();
    json = await post(encode(query, variables, files), accessToken);
    error = firstError(json);
  }
  if (error) {
    if (error.code === 'UNAUTHENTICATED' && !anonymous) forget();
    throw error;
  }
  return json.data;
}

/** A mutation whose payload has `errors { field code message }`: the first one is thrown. */
export async function mutate(query, variables = {}, options = {}) {
  const data = await gql(query, variables, options);
  const payload = Object.values(data)[0];
  if (payload && Array.isArray(payload.errors) && payload.errors.length) {
    const first = payload.errors[0];
    throw new ApiError(first.code, first.message, first.field, { all: payload.errors });
  }
  return payload;
}

const LOGIN = `mutation ConsoleLogin($username: String!, $password: String!, $otp: String, $deviceToken: String) {
  tokenAuth(username: $username, password: $password, otp: $otp, deviceToken: $deviceToken) { token refreshToken deviceToken }
}`;

// The deviceToken tokenAuth gives (per username) lets this browser keep its own allowance of
// login attempts, so that someone guessing the password elsewhere does not lock the owner out.
// It proves nothing by itself (the password and code are still asked), so localStorage is fine.
const DEVICE_KEY = 'linli.console.device';
function deviceTokens() {
  try { return JSON.parse(localStorage.getItem(DEVICE_KEY) || '{}'); } catch (error) { return {}; }
}
function rememberDevice(username, token) {
  if (!token) return;
  const tokens = deviceTokens();
  tokens[username] = token;
  localStorage.setItem(DEVICE_KEY, JSON.stringify(tokens));
}

export async function login(username, password, otp = null) {
  const data = await gql(LOGIN, { username, password, otp: otp || null, deviceToken: deviceTokens()[username] || null }, { anonymous: true })
    .catch((error) => {
      // Wrong credentials come back as UNAUTHENTICATED (the JWT library's refusal).
      if (error.code === 'UNAUTHENTICATED') throw new ApiError('LOGIN_FAILED', error.message);
      throw error;
    });
  rememberDevice(username, data.tokenAuth.deviceToken);
  setTokens(data.tokenAuth.token, data.tokenAuth.refreshToken);
}

// The staff second factor: enrolment during a login (with the enrolmentToken of the
// OTP_ENROLMENT_REQUIRED refusal) or, signed in, from the account screen (no token).
const BEGIN_TOTP = `mutation ConsoleBeginTotp($enrolmentToken: String) {
  beginTotpEnrolment(enrolmentToken: $enrolmentToken) { errors { field code message } secret otpauthUri }
}`;
const CONFIRM_TOTP = `mutation ConsoleConfirmTotp($code: String!, $enrolmentToken: String) {
  confirmTotpEnrolment(code: $code, enrolmentToken: $enrolmentToken) { errors { field code message } recoveryCodes token refreshToken deviceToken }
}`;
const NEW_RECOVERY_CODES = `mutation ConsoleRecoveryCodes($otp: String!) {
  regenerateRecoveryCodes(otp: $otp) { errors { field code message } recoveryCodes }
}`;

export function beginTotpEnrolment(enrolmentToken = null) {
  return mutate(BEGIN_TOTP, { enrolmentToken }, { anonymous: Boolean(enrolmentToken) });
}

/** The app's code: the app is set up. Returns the recovery codes; a login's tokens are kept
 *  only when `signIn()` is called (after the person has seen the codes). */
export async function confirmTotpEnrolment(code, enrolmentToken = null, username = null) {
  const payload = await mutate(CONFIRM_TOTP, { code, enrolmentToken }, { anonymous: Boolean(enrolmentToken) });
  if (username) rememberDevice(username, payload.deviceToken);
  return {
    recoveryCodes: payload.recoveryCodes || [],
    signIn: payload.token ? () => setTokens(payload.token, payload.refreshToken) : null,
  };
}

export async function regenerateRecoveryCodes(otp) {
  return (await mutate(NEW_RECOVERY_CODES, { otp })).recoveryCodes || [];
}

const REFRESH = `mutation ConsoleRefresh($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { token refreshToken }
}`;

async function doRefresh() {
  const stored = sessionStorage.getItem(REFRESH_KEY);
  if (!stored) { forget(); throw new ApiError('UNAUTHENTICATED', 'no session'); }
  const json = await post({ query: REFRESH, variables: { refreshToken: stored } }, null);
  const error = firstError(json);
  if (error || !json.data || !json.data.refreshToken) {
    if (!error || error.code !== 'NETWORK') forget();
    throw error || new ApiError('UNAUTHENTICATED', 'refresh failed');
  }
  setTokens(json.data.refreshToken.token, json.data.refreshToken.refreshToken);
}

/** Exchange the refresh token for new tokens, once even when many callers ask at once. */
export function refresh() {
  if (!refreshing) {
    const run = navigator.locks
      ? () => navigator.locks.request('linli-console-refresh', doRefresh)
      : doRefresh;
    refreshing = run().finally(() => { refreshing = null; });
  }
  return refreshing;
}

const LOGOUT = `mutation ConsoleLogout($refreshToken: String!) { revokeToken(refreshToken: $refreshToken) { revoked } }`;

export async function logout() {
  const stored = sessionStorage.getItem(REFRESH_KEY);
  if (stored) await post({ query: LOGOUT, variables: { refreshToken: stored } }, accessToken).catch(() => null);
  forget();
  if (channel) channel.postMessage({ type: 'logout' });
}
