// The reset page: a user with a reset token sets a new password.
// No dependencies; talks only to this service's own API.
'use strict';

const API = '/rbac-api/v1';
const $ = (id) => document.getElementById(id);
const form = $('reset-form');
const tokenInput = $('token');
const password = $('password');
const confirmInput = $('confirm');
const policy = $('policy');
const statusBox = $('status');
const submit = $('submit');

// A token in the link is filled in, then removed from the address bar (and
// so from history and any later copy of the URL).
const fromLink = new URLSearchParams(window.location.search).get('token');
if (fromLink) {
  tokenInput.value = fromLink.trim();
  $('token-field').hidden = true;
  $('token-loaded').hidden = false;
  window.history.replaceState(null, '', window.location.pathname);
}

function show(kind, message, items) {
  statusBox.hidden = false;
  statusBox.className = `status ${kind}`;
  statusBox.textContent = message;
  if (items && items.length) {
    const list = document.createElement('ul');
    for (const item of items) {
      const entry = document.createElement('li');
      entry.textContent = item;
      list.append(entry);
    }
    statusBox.append(list);
  }
  statusBox.focus();
}

function clearStatus() {
  statusBox.hidden = true;
  statusBox.textContent = '';
}

// Whose password the token sets, shown once the service has found the token usable.
let holderSequence = 0;
let holderTimer;
function showHolder(holder) {
  $('holder-login').textContent = holder ? holder.login : '';
  $('holder').hidden = !holder;
  const stateList = $('account-state');
  stateList.replaceChildren();
  for (const words of holder ? accountStateInWords(holder) : []) {
    const item = document.createElement('li');
    item.textContent = words;
    stateList.append(item);
  }
  stateList.hidden = stateList.childElementCount === 0;
}

/** A time from the service, in the reader's own zone and language. */
function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'long', timeStyle: 'short' });
}

// The account's state (POST /auth/reset/holder), said to its owner: why the
// account cannot be used now, and that the new password is the way back.
function accountStateInWords(holder) {
  const words = [];
  if (holder.revoked_by === 'lockout') {
    words.push(
      holder.lockout_lifts_at
        ? `This account is locked after too many failed logins, until ${when(holder.lockout_lifts_at)}. Setting a new password unlocks it now.`
        : 'This account is locked after too many failed logins. Setting a new password unlocks it.',
    );
  } else if (holder.revoked_by === 'administrator') {
    words.push('This account was revoked by an administrator. Setting a new password with this token reinstates it.');
  } else if (holder.revoked_by === 'expiry') {
    words.push('This account was revoked because it was not used for a long time. Setting a new password with this token reinstates it.');
  }
  if (holder.password_expired) {
    const days = holder.password_maximum_age_days;
    words.push(`Your password has expired: passwords must be changed every ${days} day${days === 1 ? '' : 's'}. Choose a new one below.`);
  } else if (holder.password_change_required) {
    words.push('You must change your password before you can use this account. Choose a new one below.');
  }
  return words;
}

async function checkHolder() {
  const token = tokenInput.value.trim();
  const sequence = ++holderSequence;
  showHolder(null);
  if (!token) return;
  try {
    const { status: code, data } = await post('/auth/reset/holder', { token });
    if (sequence !== holderSequence) return; // the token changed meanwhile, or the form was sent
    if (code === 200 && data && typeof data.login === 'string') showHolder(data);
    else if (code === 403) tokenProblem();
  } catch {
    // A convenience; submitting reports network trouble.
  }
}

function tokenProblem() {
  showHolder(null);
  // The same words whether the token was wrong, used or expired: the service does not say which.
  show('error', 'This reset token is invalid, already used or expired. Ask your administrator for a new one.');
  if (fromLink) {
    $('token-field').hidden = false;
    $('token-loaded').hidden = true;
  }
  tokenInput.focus();
}

async function post(path, body) {
  const response = await fetch(API + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { status: response.status, data };
}

// `failures` as PE lists them ({rule-identifier, friendly-error}); none is a pass, null clears the list.
function renderPolicy(failures) {
  policy.replaceChildren();
  if (!failures) return;
  if (failures.length === 0) {
    const ok = document.createElement('li');
    ok.className = 'ok';
    ok.textContent = 'This password meets the policy.';
    policy.append(ok);
    return;
  }
  for (const failure of failures) {
    const item = document.createElement('li');
    item.className = 'bad';
    item.dataset.rule = failure['rule-identifier'];
    item.textContent = failure['friendly-error'];
    policy.append(item);
  }
}

// With password-maximum-age-days set, validate-password says when a password set now must be changed.
function showExpiry(iso) {
  const note = $('expires');
  note.textContent = iso ? `If you set this password now, it must be changed by ${when(iso)}.` : '';
  note.hidden = !iso;
}

let checkTimer;
let checkSequence = 0;
function scheduleCheck() {
  clearTimeout(checkTimer);
  if (!password.value || !tokenInput.value.trim()) {
    renderPolicy(null);
    showExpiry(null);
    return;
  }
  checkTimer = setTimeout(checkPolicy, 300);
}

async function checkPolicy() {
  const sequence = ++checkSequence;
  try {
    const { status: code, data } = await post('/command/validate-password', { password: password.value, reset_token: tokenInput.value.trim() });
    if (sequence !== checkSequence) return; // a newer check is on its way
    if (code === 200 && data) {
      renderPolicy(data.failures || []);
      showExpiry(data.password_expires_at);
    }
    else if (code === 403) tokenProblem();
  } catch {
    // Live feedback is a convenience; submitting reports network trouble.
  }
}

function checkConfirmation() {
  const help = $('confirm-help');
  const mismatch = confirmInput.value !== '' && confirmInput.value !== password.value;
  help.textContent = mismatch ? 'The two passwords differ.' : '';
  help.className = mismatch ? 'help bad' : 'help';
  confirmInput.setAttribute('aria-invalid', String(mismatch));
  return !mismatch;
}

password.addEventListener('input', () => {
  scheduleCheck();
  if (confirmInput.value) checkConfirmation();
});
tokenInput.addEventListener('input', () => {
  scheduleCheck();
  clearTimeout(holderTimer);
  holderTimer = setTimeout(checkHolder, 300);
});
confirmInput.addEventListener('input', checkConfirmation);

$('toggle').addEventListener('click', (event) => {
  const showing = password.type === 'text';
  password.type = confirmInput.type = showing ? 'password' : 'text';
  event.currentTarget.textContent = showing ? 'Show' : 'Hide';
  event.currentTarget.setAttribute('aria-pressed', String(!showing));
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  // A policy check still pending or in flight must not answer after the
  // submit: once the reset spends the token, that check would get 403 and
  // replace "changed" with "invalid token".
  clearTimeout(checkTimer);
  checkSequence++;
  // The same for the holder check: after the reset the token is spent.
  clearTimeout(holderTimer);
  holderSequence++;
  clearStatus();
  const token = tokenInput.value.trim();
  if (!token) {
    show('error', 'Paste the reset token you received.');
    $('token-field').hidden = false;
    tokenInput.focus();
    return;
  }
  if (!password.value) {
    show('error', 'Enter a new password.');
    password.focus();
    return;
  }
  if (!checkConfirmation() || confirmInput.value === '') {
    show('error', 'Repeat the same password in both fields.');
    confirmInput.focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = 'Setting password…';
  try {
    const { status: code, data } = await post('/auth/reset', { token, password: password.value });
    if (code === 200) {
      form.hidden = true;
      $('done').hidden = false;
      password.value = confirmInput.value = tokenInput.value = '';
      show('ok', 'Your password has been changed.');
      return;
    }
    if (code === 403) return tokenProblem();
    if (code === 400 && data && data.kind === 'invalid-password') {
      const failures = (data.details && data.details.failures) || [];
      renderPolicy(failures);
      show('error', 'Choose another password:', failures.map((failure) => failure['friendly-error']));
      password.focus();
      return;
    }
    if (code === 429) return show('error', 'Too many attempts. Wait a moment and try again.');
    show('error', (data && data.msg) || `The service answered ${code}. Try again later.`);
  } catch {
    show('error', 'The service could not be reached. Check your connection and try again.');
  } finally {
    submit.disabled = false;
    submit.textContent = 'Set password';
  }
});

// The HTML ships the button disabled so nothing submits before this script
// has taken over submission.
submit.disabled = false;
if (fromLink) void checkHolder();
