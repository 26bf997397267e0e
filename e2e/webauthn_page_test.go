package e2e

// webauthnPage is the test's own single-page client of the headless browser API
// (/_allauth/browser/v1/): the session cookie, the csrftoken cookie echoed in X-CSRFToken,
// and the browser's WebAuthn API (parseCreationOptionsFromJSON / parseRequestOptionsFromJSON
// on the options the server answers, toJSON on the credential handed back). Each function
// resolves to the answers it got, for the Go test to assert on.
const webauthnPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>restauth passkeys e2e</title></head>
<body><pre id="log"></pre>
<script>
const base = '/_allauth/browser/v1/';

function csrfCookie() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : '';
}

async function call(method, path, body) {
  const h = {'Content-Type': 'application/json'};
  if (method !== 'GET') { h['X-CSRFToken'] = csrfCookie() || 'null'; }
  const resp = await fetch(base + path, {method: method, headers: h, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body)});
  const data = await resp.json();
  document.getElementById('log').textContent += method + ' ' + path + ' ' + resp.status + '\n';
  return {status: resp.status, data: data};
}

async function session() { return {session: await call('GET', 'auth/session')}; }

async function signup(username, email, password) {
  await call('GET', 'auth/session');
  return {signup: await call('POST', 'auth/signup', {username: username, email: email, password: password})};
}

async function passwordLogin(username, password) {
  await call('GET', 'auth/session');
  return {login: await call('POST', 'auth/login', {username: username, password: password})};
}

async function logout() { return {logout: await call('DELETE', 'auth/session')}; }

// addPasskey: creation options (passwordless), navigator.credentials.create, POST.
async function addPasskey(name) {
  const opts = await call('GET', 'account/authenticators/webauthn?passwordless');
  if (opts.status !== 200) { return {options: opts}; }
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(opts.data.data.creation_options.publicKey);
  const cred = await navigator.credentials.create({publicKey: publicKey});
  return {options: opts, add: await call('POST', 'account/authenticators/webauthn', {name: name, credential: cred.toJSON()})};
}

// assert: request options from path (GET), navigator.credentials.get, POST to path.
async function assertion(path) {
  const opts = await call('GET', path);
  if (opts.status !== 200) { return {options: opts}; }
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(opts.data.data.request_options.publicKey);
  const cred = await navigator.credentials.get({publicKey: publicKey});
  return {options: opts, finish: await call('POST', path, {credential: cred.toJSON()})};
}

// Passkey signup: POST the address (a code is mailed), the code, then the passkey.
async function passkeySignup(email, username) {
  await call('GET', 'auth/session');
  return {start: await call('POST', 'auth/webauthn/signup', {email: email, username: username})};
}

async function verifyEmail(code) { return {verify: await call('POST', 'auth/email/verify', {key: code})}; }

async function createPasskeyAccount(name) {
  const opts = await call('GET', 'auth/webauthn/signup');
  if (opts.status !== 200) { return {options: opts}; }
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(opts.data.data.creation_options.publicKey);
  const cred = await navigator.credentials.create({publicKey: publicKey});
  return {options: opts, finish: await call('PUT', 'auth/webauthn/signup', {name: name, credential: cred.toJSON()})};
}

// The 291 dialect's browser flow, as InvenTree's UI: the JSON login answers 403 "MFA
// required" (and sets the csrftoken cookie), then a full-page form posts username,
// password, csrfmiddlewaretoken and mfa=true, and the browser follows to the second-factor
// page. The form is submitted after this function resolves.
async function mfaFormLogin(username, password) {
  const r = await fetch('/api/auth/login/', {method: 'POST', headers: {'Content-Type': 'application/json'},
    credentials: 'same-origin', body: JSON.stringify({username: username, password: password})});
  const f = document.createElement('form');
  f.method = 'post';
  f.action = '/api/auth/login/';
  const fields = {username: username, password: password, csrfmiddlewaretoken: csrfCookie(), mfa: 'true'};
  for (const k in fields) {
    const i = document.createElement('input');
    i.type = 'hidden'; i.name = k; i.value = fields[k];
    f.appendChild(i);
  }
  document.body.appendChild(f);
  setTimeout(function () { f.submit(); }, 0);
  return {json: {status: r.status, body: await r.json()}};
}

// me291 is the 291 dialect's user/ for the session.
async function me291() {
  const r = await fetch('/api/auth/user/', {credentials: 'same-origin'});
  return {me: {status: r.status, body: await r.json()}};
}

async function passkeyLogin() { await call('GET', 'auth/session'); return assertion('auth/webauthn/login'); }
async function secondFactor() { return assertion('auth/webauthn/authenticate'); }
</script></body></html>`
