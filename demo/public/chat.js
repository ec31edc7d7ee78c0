// The demo's page: plain browser JavaScript, no framework, no build step.
// Talks JSON over one WebSocket to /chat/:room; reconnects with exponential
// backoff (0.5 s, 1 s, 2 s … up to 15 s, with jitter) when the server goes away.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const ROOM = /^[a-z0-9][a-z0-9_-]{0,31}$/;
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 15_000;
  const TYPING_SEND_EVERY_MS = 2_000; // refresh "typing: true" at most this often
  const TYPING_IDLE_MS = 3_000; // stop showing / sending "typing" after this quiet time

  const fromPath = /^\/r\/([^/]+)\/?$/.exec(location.pathname);
  const room = fromPath ? decodeURIComponent(fromPath[1]).toLowerCase() : 'lobby';

  let ws = null;
  let me = null;
  let attempt = 0; // failed connection attempts since the last success
  let retryTimer = null;
  let countdown = null; // updates the status line while waiting
  let epoch = null; // the server's boot id: a new one means a new history
  let lastId = 0; // the last message id shown, so a replayed history is not shown twice
  let typingSentAt = 0;
  let typingStopTimer = null;
  const typers = new Map(); // nick → timer that removes them

  if (!ROOM.test(room)) {
    location.replace('/'); // the server would refuse the upgrade with 400
    return;
  }
  $('room-name').textContent = `#${room}`;
  document.title = `#${room} · attach-ws chat`;

  // --- connection -------------------------------------------------------------

  function setStatus(state, text) {
    $('status').dataset.state = state;
    $('status').textContent = text;
    $('send').disabled = state !== 'online';
  }

  function connect() {
    cancelRetry();
    if (ws) return;
    setStatus('connecting', attempt ? `connecting (attempt ${attempt + 1})…` : 'connecting…');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/chat/${encodeURIComponent(room)}`);
    ws = socket;
    let opened = false;

    socket.onopen = () => {
      opened = true;
      attempt = 0;
      setStatus('online', 'online');
    };

    socket.onmessage = (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      onMessage(msg);
    };

    socket.onclose = async (event) => {
      if (ws !== socket) return; // replaced on purpose (nickname change)
      ws = null;
      clearTypers();
      if (event.code === 1008 || event.code === 1009) notice(`disconnected: ${event.reason || event.code}`, 'error');
      if (!opened) {
        // The upgrade was refused (a browser does not show the HTTP status):
        // no nickname in the session means our cookie is gone, so ask for one again.
        const session = await fetch('/session')
          .then((res) => (res.ok ? res.json() : null))
          .catch(() => null);
        if (session && !session.nick) return showLogin('Your nickname expired; choose one again.');
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    const until = Date.now() + delay;
    const tick = () => {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setStatus('reconnecting', `offline, reconnecting in ${left}s…`);
    };
    tick();
    countdown = setInterval(tick, 250);
    retryTimer = setTimeout(connect, delay);
  }

  function cancelRetry() {
    clearTimeout(retryTimer);
    clearInterval(countdown);
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  window.addEventListener('online', () => {
    if (!ws) connect();
  });

  // --- server messages ----------------------------------------------------------

  function onMessage(msg) {
    switch (msg.type) {
      case 'welcome':
        me = msg.nick;
        $('me').textContent = me;
        if (msg.epoch !== epoch) {
          if (epoch !== null) notice('the server restarted');
          epoch = msg.epoch;
          lastId = 0;
        }
        for (const m of msg.history) if (m.id > lastId) say(m);
        setMembers(msg.members);
        $('text').maxLength = msg.limits.maxTextLength;
        notice(`you joined #${msg.room}`);
        break;
      case 'message':
        stopTyper(msg.nick);
        say(msg);
        break;
      case 'join':
        notice(`${msg.nick} joined`);
        setMembers(msg.members);
        break;
      case 'leave':
        stopTyper(msg.nick);
        notice(`${msg.nick} left`);
        setMembers(msg.members);
        break;
      case 'typing':
        if (msg.typing) startTyper(msg.nick);
        else stopTyper(msg.nick);
        break;
      case 'error':
        notice(`server: ${msg.message}`, 'error');
        break;
    }
  }

  function say(m) {
    lastId = Math.max(lastId, m.id);
    const li = document.createElement('li');
    li.className = 'msg';
    const time = document.createElement('time');
    time.dateTime = new Date(m.ts).toISOString();
    time.textContent = new Date(m.ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const nick = document.createElement('span');
    nick.className = 'nick';
    nick.textContent = m.nick;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = m.text;
    li.append(time, nick, text);
    append(li);
  }

  function notice(text, kind = 'notice') {
    const li = document.createElement('li');
    li.className = kind;
    li.textContent = text;
    append(li);
  }

  function append(li) {
    const list = $('messages');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(li);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function setMembers(members) {
    $('members').replaceChildren(
      ...members.map((nick) => {
        const li = document.createElement('li');
        li.textContent = nick === me ? `${nick} (you)` : nick;
        return li;
      }),
    );
  }

  // --- typing indicator ---------------------------------------------------------

  function startTyper(nick) {
    clearTimeout(typers.get(nick));
    typers.set(nick, setTimeout(() => stopTyper(nick), TYPING_IDLE_MS + 1_000));
    renderTypers();
  }

  function stopTyper(nick) {
    if (!typers.has(nick)) return;
    clearTimeout(typers.get(nick));
    typers.delete(nick);
    renderTypers();
  }

  function clearTypers() {
    for (const nick of [...typers.keys()]) stopTyper(nick);
  }

  function renderTypers() {
    const nicks = [...typers.keys()];
    $('typing').textContent =
      nicks.length === 0 ? '' : nicks.length === 1 ? `${nicks[0]} is typing…` : `${nicks.join(', ')} are typing…`;
  }

  $('text').addEventListener('input', () => {
    const now = Date.now();
    if (now - typingSentAt > TYPING_SEND_EVERY_MS) {
      typingSentAt = now;
      send({ type: 'typing', typing: true });
    }
    clearTimeout(typingStopTimer);
    typingStopTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });

  function stopTyping() {
    clearTimeout(typingStopTimer);
    if (typingSentAt === 0) return;
    typingSentAt = 0;
    send({ type: 'typing', typing: false });
  }

  // --- forms ----------------------------------------------------------------------

  $('say-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('text').value.trim();
    if (!text) return;
    stopTyping();
    send({ type: 'say', text });
    $('text').value = '';
  });

  $('room-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const next = event.target.room.value.trim().toLowerCase();
    if (ROOM.test(next)) location.assign(`/r/${encodeURIComponent(next)}`);
  });

  $('nick-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const res = await fetch('/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nick: event.target.nick.value.trim() }),
    }).catch(() => null);
    if (!res) return showLogin('The server is not reachable; try again.');
    const body = await res.json().catch(() => ({}));
    if (!res.ok) return showLogin(body.error || `HTTP ${res.status}`);
    showChat();
    attempt = 0;
    connect();
  });

  $('change-nick').addEventListener('click', () => {
    const old = ws;
    ws = null; // its close is on purpose: no reconnect
    cancelRetry();
    if (old) old.close(1000, 'changing nickname');
    showLogin('');
  });

  function showLogin(error) {
    cancelRetry();
    setStatus('offline', 'offline');
    $('login-error').textContent = error;
    $('chat').hidden = true;
    $('login').hidden = false;
    $('nick-form').nick.focus();
  }

  function showChat() {
    $('login').hidden = true;
    $('chat').hidden = false;
    $('text').focus();
  }

  // --- start ------------------------------------------------------------------------

  fetch('/session')
    .then((res) => (res.ok ? res.json() : null))
    .then((session) => {
      if (!session || !session.nick) return showLogin('');
      showChat();
      connect();
    })
    .catch(() => {
      showChat();
      scheduleReconnect(); // server down at load: keep trying
    });
})();
