// edgegate token inspector: decodes a pasted JWT with `edgegate/browser` (inspection only,
// no verifier) and shows its header, claims, expiry countdown and warnings.
// Everything from the token is attacker-controlled: it is only ever written with
// textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const input = $('token');
const errorBox = $('error');
const result = $('result');
const expiryLine = $('expiry');

let inspectToken;
let current = null; // { expiresAtMs, nbfMs } of the token on screen
let timer = 0;

const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat', 'auth_time', 'updated_at']);

/** 90061 -> "1d 1h 1m 1s"; 59 -> "59s" */
export function formatDuration(totalSeconds) {
  let s = Math.max(0, Math.floor(totalSeconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) return `${d}d ${h}h ${m}m ${s}s`;
  if (h) return `${h}h ${m}m ${s}s`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

/** A Date, epoch seconds or an ISO string -> epoch milliseconds (or null). */
function toMs(v) {
  if (v == null) return null;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' && Number.isFinite(v)) return v * 1000;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

function showError(message) {
  clearInterval(timer);
  current = null;
  result.hidden = true;
  errorBox.hidden = false;
  errorBox.textContent = message;
}

function renderExpiry() {
  if (!current) return;
  const now = Date.now();
  const { expiresAtMs, nbfMs } = current;
  expiryLine.className = 'expiry';
  if (nbfMs != null && nbfMs > now) {
    expiryLine.classList.add('notyet');
    expiryLine.textContent = `not yet valid: becomes valid in ${formatDuration((nbfMs - now) / 1000)}`;
  } else if (expiresAtMs == null) {
    expiryLine.textContent = 'no expiry (no exp claim)';
  } else if (expiresAtMs <= now) {
    expiryLine.classList.add('expired');
    expiryLine.textContent = `EXPIRED ${formatDuration((now - expiresAtMs) / 1000)} ago (${new Date(expiresAtMs).toISOString()})`;
  } else {
    expiryLine.classList.add('valid');
    expiryLine.textContent = `expires in ${formatDuration((expiresAtMs - now) / 1000)} (${new Date(expiresAtMs).toISOString()})`;
  }
}

function claimRow(name, value) {
  const tr = document.createElement('tr');
  const k = document.createElement('td');
  k.textContent = name;
  const v = document.createElement('td');
  v.textContent = typeof value === 'string' ? value : JSON.stringify(value);
  if (TIME_CLAIMS.has(name) && typeof value === 'number') {
    const when = document.createElement('span');
    when.className = 'when';
    when.textContent = `  (${new Date(value * 1000).toISOString()})`;
    v.append(when);
  }
  tr.append(k, v);
  return tr;
}

function render(text) {
  const jwt = text.trim();
  if (!jwt) {
    clearInterval(timer);
    current = null;
    result.hidden = true;
    errorBox.hidden = true;
    return;
  }
  let info;
  try {
    info = inspectToken(jwt);
  } catch (e) {
    const code = e && e.code ? ` (${e.code})` : '';
    showError(`Not a readable token: ${e && e.message ? e.message : String(e)}${code}`);
    return;
  }
  errorBox.hidden = true;
  result.hidden = false;

  const claims = info.claims ?? {};
  $('header').textContent = JSON.stringify(info.header, null, 2);
  $('claims').textContent = JSON.stringify(claims, null, 2);
  const body = $('claims-table').tBodies[0];
  body.replaceChildren(...Object.entries(claims).map(([k, v]) => claimRow(k, v)));

  const warnings = [...(info.warnings ?? [])].map((w) => (typeof w === 'string' ? w : (w.message ?? JSON.stringify(w))));
  $('warnings').replaceChildren(
    ...warnings.map((w) => {
      const li = document.createElement('li');
      li.textContent = w;
      return li;
    }),
  );

  current = {
    expiresAtMs: toMs(info.expiresAt) ?? toMs(claims.exp),
    nbfMs: toMs(claims.nbf),
  };
  renderExpiry();
  clearInterval(timer);
  timer = setInterval(renderExpiry, 1000);
}

try {
  ({ inspectToken } = await import('edgegate/browser'));
  $('loading').hidden = true;
  input.addEventListener('input', () => render(input.value));
  if (input.value) render(input.value);
  document.body.dataset.ready = 'true';
} catch (e) {
  $('loading').hidden = true;
  showError(`Could not load edgegate/browser: ${e && e.message ? e.message : String(e)}`);
  document.body.dataset.ready = 'error';
}
