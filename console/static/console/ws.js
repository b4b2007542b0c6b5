// GraphQL subscriptions over graphql-transport-ws (the protocol of the `graphql-ws` library),
// written here in a few dozen lines instead of vendoring the package: one socket, shared by
// every live view; the access token goes in connection_init; the server closes the socket
// when the token expires (4440), and we reconnect with a fresh one and resubscribe.

import { currentToken, getConfig, refresh } from './api.js';

const PROTOCOL = 'graphql-transport-ws';
let socket = null;
let ready = false;
let nextId = 1;
let retry = 0;
let timer = null;
const active = new Map(); // id -> { payload, sink }
const statusListeners = new Set();

function url() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${getConfig().graphqlPath}`;
}

let status = 'offline';
function setStatus(value) { status = value; statusListeners.forEach((fn) => fn(value)); }
/** Follow the connection's state ('connecting', 'live', 'offline'), starting with the current one. */
export function onStatus(fn) { statusListeners.add(fn); fn(status); return () => statusListeners.delete(fn); }

function send(message) { socket.send(JSON.stringify(message)); }

async function connect() {
  if (socket) return;
  if (!currentToken()) {
    try { await refresh(); } catch (error) { return; }
  }
  const ws = new WebSocket(url(), PROTOCOL);
  socket = ws;
  ready = false;
  setStatus('connecting');
  ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${currentToken()}` } }));
  ws.onmessage = (event) => onMessage(JSON.parse(event.data));
  ws.onclose = (event) => onClose(ws, event);
}

function onMessage(message) {
  const entry = message.id ? active.get(message.id) : null;
  switch (message.type) {
    case 'connection_ack':
      ready = true;
      retry = 0;
      setStatus('live');
      for (const [id, sub] of active) send({ id, type: 'subscribe', payload: sub.payload });
      break;
    case 'ping':
      send({ type: 'pong' });
      break;
    case 'next':
      if (entry) entry.sink.next(message.payload);
      break;
    case 'error':
      if (entry) { active.delete(message.id); entry.sink.error(message.payload); }
      break;
    case 'complete':
      if (entry) { active.delete(message.id); if (entry.sink.complete) entry.sink.complete(); }
      break;
    default:
      break;
  }
}

async function onClose(ws, event) {
  if (socket !== ws) return;
  socket = null;
  ready = false;
  setStatus('offline');
  if (!active.size) return;
  // 4440 token expired, 4441 invalid, 4442 missing, 4403 account disabled (the refresh then
  // fails and we stop): get a fresh token first. Others: back off and retry.
  const tokenTrouble = [4403, 4440, 4441, 4442].includes(event.code);
  if (tokenTrouble) {
    try { await refresh(); } catch (error) { return; }
  }
  const delay = Math.min(30000, 500 * 2 ** retry) * (0.5 + Math.random() / 2);
  retry += 1;
  clearTimeout(timer);
  timer = setTimeout(connect, tokenTrouble ? 0 : delay);
}

/**
 * Subscribe: sink.next(payload) for each result ({data, errors}); returns an unsubscribe
 * function. Subscriptions survive reconnects (they are sent again after each ack).
 */
export function subscribe(query, variables, sink) {
  const id = String(nextId++);
  active.set(id, { payload: { query, variables }, sink });
  if (ready) send({ id, type: 'subscribe', payload: { query, variables } });
  else connect();
  return () => {
    if (!active.has(id)) return;
    active.delete(id);
    if (ready) send({ id, type: 'complete' });
  };
}

/** Close the socket (logout): every subscription ends. */
export function disconnect() {
  active.clear();
  if (socket) { const ws = socket; socket = null; ws.close(1000); }
  ready = false;
  setStatus('offline');
}
