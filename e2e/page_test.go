package e2e

// uiPage is the test's stand-in for InvenTree 291's web UI: each function makes exactly the
// requests CLIENT.md §2 describes for one UI action and resolves to what the UI reads from
// the answers, so the Go test can assert on it. The token lives in memory (window.token), as
// in the UI, so a page reload loses it and the session must give it back.
const uiPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>restauth e2e</title></head>
<body><pre id="log"></pre>
<script>
window.token = null;

function csrfCookie() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : '';
}

// The UI deletes its csrftoken cookie (expired, path /) before a login and after a logout.
function deleteCSRFCookie() {
  document.cookie = 'csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/';
}

async function call(method, url, body, headers) {
  const h = Object.assign({'Content-Type': 'application/json'}, headers || {});
  const resp = await fetch(url, {method: method, headers: h, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  const out = {status: resp.status, data: data};
  document.getElementById('log').textContent += method + ' ' + url + ' ' + resp.status + '\n';
  return out;
}

function authHeaders() {
  return window.token ? {'Authorization': 'Token ' + window.token} : {};
}

// §2.1: providers with Authorization: ''.
async function providers() {
  return call('GET', '/api/auth/providers/', undefined, {'Authorization': ''});
}

// §2.2 doBasicLogin: delete csrftoken, POST login/, read only data.key, then user/me/.
async function login(username, password) {
  deleteCSRFCookie();
  const h = {};
  const c = csrfCookie();
  if (c) { h['X-CSRFToken'] = c; }
  const r = await call('POST', '/api/auth/login/', {username: username, password: password}, h);
  const res = {login: r, cookieAfterLogin: csrfCookie() !== ''};
  if (r.status === 200 && r.data && r.data.key) {
    window.token = r.data.key;
    res.me = await call('GET', '/api/user/me/', undefined, authHeaders());
  }
  return res;
}

// §2.5 fetchUserState after a reload: no token in memory, a cookie present, so the session
// alone asks user/token/ and the UI reads data.token.
async function restore() {
  const res = {hasCookie: /(?:^|;\s*)(csrftoken|sessionid)=/.test(document.cookie)};
  if (window.token === null && res.hasCookie) {
    res.token = await call('GET', '/api/user/token/');
    if (res.token.status === 200 && res.token.data && res.token.data.token) {
      window.token = res.token.data.token;
      res.me = await call('GET', '/api/user/me/', undefined, authHeaders());
    }
  }
  return res;
}

// §2.3 doLogout: POST logout/ without a body, Token header, cookies and X-CSRFToken; then
// forget the token and delete the cookie.
async function logout() {
  const h = authHeaders();
  h['X-CSRFToken'] = csrfCookie();
  const r = await call('POST', '/api/auth/logout/', undefined, h);
  const old = window.token;
  window.token = null;
  deleteCSRFCookie();
  const after = await call('GET', '/api/user/me/', undefined, {'Authorization': 'Token ' + old});
  const session = await call('GET', '/api/user/token/');
  return {logout: r, meWithOldToken: after, tokenBySession: session};
}

// §2.6 registration: Authorization: '', success only on 204.
async function register(username, email, password) {
  const r = await call('POST', '/api/auth/registration/',
    {username: username, email: email, password1: password, password2: password}, {'Authorization': ''});
  return {resp: r, success: r.status === 204};
}

// §2.2 step 6: the 403 "MFA required for this user" makes the UI post a hidden HTML form to
// login/ with username, password, csrfmiddlewaretoken and mfa=true; the browser follows the
// 302 to the second-factor page. The form is submitted after this call has answered.
async function mfaLogin(username, password) {
  const res = await login(username, password);
  if (res.login.status === 403 && res.login.data && res.login.data.detail === 'MFA required for this user') {
    const form = document.createElement('form');
    form.method = 'post';
    form.action = '/api/auth/login/';
    form.style.display = 'none';
    const fields = {username: username, password: password, csrfmiddlewaretoken: csrfCookie(), mfa: 'true'};
    for (const k of Object.keys(fields)) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = k;
      input.value = fields[k];
      form.appendChild(input);
    }
    document.body.appendChild(form);
    res.submitted = true;
    setTimeout(() => form.submit(), 0);
  }
  return res;
}

// §2.8 emails: a bare array of {email, primary, verified, id}.
async function emails() {
  return call('GET', '/api/auth/emails/', undefined, authHeaders());
}

// §2.4 step 1: password/reset/ with Authorization: ''.
async function resetRequest(email) {
  return call('POST', '/api/auth/password/reset/', {email: email}, {'Authorization': ''});
}

// §2.4 steps 2-3: the set-password page reads uid and token from its query string and
// posts one password twice.
async function setPassword(pw) {
  const q = new URLSearchParams(window.location.search);
  const uid = q.get('uid'), token = q.get('token');
  if (!uid || !token) { return {invalid: true}; }
  return call('POST', '/api/auth/password/reset/confirm/',
    {uid: uid, token: token, new_password1: pw, new_password2: pw}, {'Authorization': ''});
}

// §2.9: the magic-link request is a plain call: no cookies, no token.
async function magicLink(email) {
  const resp = await fetch('/api/email/generate/', {method: 'POST', credentials: 'omit',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify({email: email})});
  return {status: resp.status, data: await resp.json(), path: window.location.pathname};
}
</script></body></html>
`
