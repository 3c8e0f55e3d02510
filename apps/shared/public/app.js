// The page of the four sample apps. Plain JavaScript, no build step: what the browser runs is
// what is in this file (and @sse/client, served as one module). Text that users typed is only
// ever set with textContent, never as HTML.
//
// The live feed and the chat use the browser's own EventSource; the rooms and the private stream
// use @sse/client, which can send a header, reports the status of a refusal, and reconnects to
// a changed room list without losing its place.
import { createClient } from '/sse-client.js';

const byId = (id) => document.getElementById(id);
const timeOf = (iso) => new Date(iso).toLocaleTimeString();

// --- Status line: the EventSource's own states plus the server's `status` event -------------

const statusLine = byId('status');
const CONNECTION_LABELS = { connecting: 'Connecting…', open: 'Live', reconnecting: 'Reconnecting…', closed: 'Disconnected' };
let connection = 'connecting';
let serverStatus = null;

function renderStatus() {
  statusLine.dataset.connection = connection;
  statusLine.dataset.server = serverStatus?.state ?? '';
  const label = CONNECTION_LABELS[connection];
  statusLine.textContent = serverStatus === null ? label : `${label} · server: ${serverStatus.text}`;
}

// --- GET /sse: welcome, status, clock and metrics ------------------------------------------

const live = new EventSource('/sse');
live.addEventListener('open', () => {
  connection = 'open';
  renderStatus();
});
live.addEventListener('error', () => {
  // CONNECTING: the browser retries by itself after the server's `retry` delay. CLOSED: it gave up.
  connection = live.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting';
  renderStatus();
});
live.addEventListener('welcome', (event) => {
  const welcome = JSON.parse(event.data);
  byId('framework').textContent = welcome.framework;
  byId('tick-ms').textContent = String(welcome.tickMs);
  document.title = `@sse live demo · ${welcome.framework}`;
});
live.addEventListener('status', (event) => {
  serverStatus = JSON.parse(event.data);
  renderStatus();
});
live.addEventListener('time', (event) => {
  const { iso, tick } = JSON.parse(event.data);
  const clock = byId('clock');
  clock.textContent = timeOf(iso);
  clock.dateTime = iso;
  clock.dataset.tick = String(tick);
  byId('tick').textContent = String(tick);
});
live.addEventListener('metrics', (event) => {
  const metrics = JSON.parse(event.data);
  byId('metric-uptime').textContent = `${metrics.uptimeSeconds} s`;
  byId('metric-memory').textContent = `${metrics.memoryMiB} MiB`;
  byId('metric-live').textContent = String(metrics.streams.live);
  byId('metric-chat').textContent = String(metrics.streams.chat);
  byId('metric-private').textContent = String(metrics.streams.private);
  byId('metric-messages').textContent = String(metrics.messages);
});

// --- GET /chat: messages, merged by id so that none is ever shown twice --------------------

const messageList = byId('messages');
const shownIds = new Set();
// Whether the note under the chat says it is empty ("No messages yet"): the first message clears it.
let emptyNote = false;

/** Appends a message unless it is already shown; returns whether it was new. */
function showMessage(message) {
  if (shownIds.has(message.id)) return false;
  shownIds.add(message.id);
  const item = document.createElement('li');
  item.dataset.id = message.id;
  const time = document.createElement('time');
  time.dateTime = message.at;
  time.textContent = timeOf(message.at);
  const name = document.createElement('strong');
  name.className = 'name';
  name.textContent = message.name;
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = message.text;
  item.append(time, name, text);
  messageList.append(item);
  item.scrollIntoView({ block: 'nearest' });
  if (emptyNote) {
    emptyNote = false;
    chatSync.textContent = '';
  }
  return true;
}

const chatState = byId('chat-state');
const chatSync = byId('chat-sync');

function setChatState(state, label) {
  chatState.dataset.state = state;
  chatState.textContent = label;
}

function noteSync(mode, count, text) {
  chatSync.dataset.mode = mode;
  chatSync.dataset.count = String(count);
  chatSync.dataset.syncs = String(Number(chatSync.dataset.syncs) + 1);
  chatSync.textContent = text;
}

const plural = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`;

// The server tells the page in band (an `sse-gap` event, before anything after it) when it knows
// the page missed messages it cannot replay: an id the history no longer holds (`unknown-id`)
// or a history that cannot be read (`replay-failed`), after which this server sends a snapshot
// by itself; or messages lost on the way (`trimmed`: this server fell behind the shared history;
// `reset`: the history was wiped; `dropped`: the page read too slowly), after which the page
// refetches: it reconnects without an id, and the server answers with a snapshot of the recent
// history, merged by id like every snapshot.
const SNAPSHOT_FOLLOWS = new Set(['unknown-id', 'replay-failed']);
let refetching = null;

function noteGap(reason) {
  chatSync.dataset.gap = reason;
  chatSync.dataset.gaps = String(Number(chatSync.dataset.gaps) + 1);
}

function connectChat() {
  const source = new EventSource('/chat');
  source.addEventListener('open', () => setChatState('open', 'live'));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setChatState('closed', 'disconnected');
    else setChatState('reconnecting', 'reconnecting…');
  });
  // A message's id is its event id (the same on every instance of the app), not part of its data.
  source.addEventListener('message', (event) => {
    showMessage({ ...JSON.parse(event.data), id: event.lastEventId });
  });
  source.addEventListener('sse-gap', (event) => {
    const { reason } = JSON.parse(event.data);
    noteGap(reason);
    if (SNAPSHOT_FOLLOWS.has(reason)) return;
    // Nothing more from this connection: the refetch brings everything, in order.
    source.close();
    refetching = reason;
    setChatState('reconnecting', 'catching up…');
    connectChat();
  });
  // A first connection, or a server whose history no longer holds our last id (it restarted with
  // an in-memory history): the server sends its recent history, and only what is not shown yet is added.
  source.addEventListener('snapshot', (event) => {
    const { reason, messages } = JSON.parse(event.data);
    const added = messages.filter(showMessage).length;
    let text = `Back after a server restart or a long absence: ${plural(added, 'new message')} loaded, none shown twice.`;
    if (refetching !== null) text = `Some messages did not reach this page (${refetching}): ${plural(added, 'message')} loaded again, none shown twice.`;
    else if (reason === 'first-connection') text = added === 0 ? 'No messages yet: say something!' : `Loaded ${plural(added, 'recent message')}.`;
    else if (reason === 'history-unavailable') text = 'The chat history cannot be read right now: new messages still arrive.';
    noteSync(refetching !== null ? `refetch:${refetching}` : `snapshot:${reason}`, added, text);
    emptyNote = refetching === null && reason === 'first-connection' && added === 0;
    refetching = null;
  });
  // A reconnect that the server could replay from Last-Event-ID: the missed messages came first.
  source.addEventListener('sync', (event) => {
    const { count } = JSON.parse(event.data);
    noteSync('replay', count, `Reconnected: ${plural(count, 'missed message')} replayed.`);
    emptyNote = false;
  });
}

connectChat();

// --- POST /messages -----------------------------------------------------------------------

const chatForm = byId('chat-form');
const nameInput = byId('chat-name');
const textInput = byId('chat-text');
const chatError = byId('chat-error');
nameInput.value = `guest-${Math.floor(Math.random() * 9000 + 1000)}`;

/**
 * Posts a message and clears the input. The message is not shown here: it comes back over the
 * stream like everyone else's, so it appears once. A refusal is shown in `errorLine`.
 */
async function postMessage(url, text, errorLine) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: nameInput.value, text: text.value }),
    });
    if (response.ok) {
      text.value = '';
      return;
    }
    const body = await response.json().catch(() => ({ error: response.statusText }));
    errorLine.textContent = `Not sent (${response.status}): ${body.error}`;
  } catch {
    errorLine.textContent = 'Not sent: the server cannot be reached right now.';
  }
}

chatForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  chatError.textContent = '';
  await postMessage('/messages', textInput, chatError);
});

// --- GET /events?rooms=a,b: every joined room on ONE @sse/client connection ---------------

// A browser allows about 6 connections per host over HTTP/1.1: one stream carries all the rooms,
// each event's data says which room it is from ({"topic":"room:<name>","data":…}); the client
// unwraps it (onTopic) and reports the hub's per-room gap signal (onGap).
const ROOM_NAME = /^[a-z0-9-]{1,32}$/;
const roomsState = byId('rooms-state');
const roomList = byId('room-list');
const roomMessages = byId('room-messages');
const roomSelect = byId('room-select');
const roomError = byId('room-error');
const joinedRooms = [];
let roomsClient = null;

const roomOfTopic = (topic) => (topic.startsWith('room:') ? topic.slice('room:'.length) : null);

function setRoomsState(state, label) {
  roomsState.dataset.state = state;
  roomsState.textContent = label;
}

function showRoomLine(room, build) {
  const item = document.createElement('li');
  item.dataset.room = room;
  const tag = document.createElement('span');
  tag.className = 'room';
  tag.textContent = `#${room}`;
  item.append(tag, ...build());
  roomMessages.append(item);
  item.scrollIntoView({ block: 'nearest' });
}

function showRoomMessage(room, message) {
  showRoomLine(room, () => {
    const name = document.createElement('strong');
    name.className = 'name';
    name.textContent = message.name;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = message.text;
    return [name, text];
  });
}

function renderRoomList() {
  roomList.replaceChildren(
    ...joinedRooms.map((room) => {
      const item = document.createElement('li');
      item.dataset.room = room;
      item.dataset.gap = '';
      item.dataset.gaps = '0';
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = `#${room}`;
      const gap = document.createElement('span');
      gap.className = 'gap';
      const leave = document.createElement('button');
      leave.type = 'button';
      leave.className = 'leave';
      leave.textContent = 'Leave';
      leave.addEventListener('click', () => leaveRoom(room));
      item.append(name, gap, leave);
      return item;
    }),
  );
  const selected = roomSelect.value;
  roomSelect.replaceChildren(
    ...joinedRooms.map((room) => {
      const option = document.createElement('option');
      option.value = room;
      option.textContent = `#${room}`;
      return option;
    }),
  );
  if (joinedRooms.includes(selected)) roomSelect.value = selected;
}

/** The server could not replay some rooms (a restart lost the history, or it reaches back too little). */
function noteRoomGap(reason, topics) {
  for (const room of topics.map(roomOfTopic)) {
    if (room === null) continue;
    const item = [...roomList.children].find((node) => node.dataset.room === room);
    if (item !== undefined) {
      item.dataset.gap = reason;
      item.dataset.gaps = String(Number(item.dataset.gaps) + 1);
      item.querySelector('.gap').textContent = `missed messages (${reason})`;
    }
    showRoomLine(room, () => {
      const note = document.createElement('span');
      note.className = 'note';
      note.textContent = `Some messages of this room were missed (${reason}): they cannot be shown.`;
      return [note];
    });
  }
}

/**
 * Opens the one rooms stream, or moves it to the current room list: `setTopics` reconnects at
 * once with the position it holds (its Last-Event-ID), so the rooms it had resume exactly and a
 * new one starts live. With no room left, the stream is closed.
 */
function connectRooms() {
  if (joinedRooms.length === 0) {
    roomsClient?.close();
    roomsClient = null;
    roomsState.dataset.rooms = '';
    setRoomsState('idle', 'no room joined');
    return;
  }
  setRoomsState('connecting', 'connecting…');
  if (roomsClient !== null) {
    roomsClient.setTopics(joinedRooms);
    return;
  }
  const client = createClient('/events', {
    topics: joinedRooms,
    topicsParam: 'rooms',
    onRetry: () => setRoomsState('reconnecting', 'reconnecting…'),
    onClose: (info) => {
      // A 400 names what is wrong with the list; close() (no room left) is not shown.
      if (roomsClient === client && info.reason !== 'closed') setRoomsState('closed', info.body ? `disconnected: ${info.body}` : 'disconnected');
    },
  });
  roomsClient = client;
  // Every room is live (resumed, or told sse-gap): from here on nothing posted is missed.
  client.on('joined', ({ rooms }) => {
    roomsState.dataset.rooms = rooms.join(',');
    roomsState.dataset.joins = String(Number(roomsState.dataset.joins) + 1);
    setRoomsState('open', `live in ${plural(rooms.length, 'room')}`);
  });
  client.onTopic('message', (message, { topic }) => {
    const room = roomOfTopic(topic);
    if (room !== null) showRoomMessage(room, message);
  });
  client.onGap(({ reason, topics }) => noteRoomGap(reason, topics ?? []));
}

function leaveRoom(room) {
  const index = joinedRooms.indexOf(room);
  if (index === -1) return;
  joinedRooms.splice(index, 1);
  renderRoomList();
  connectRooms();
}

byId('rooms-join').addEventListener('submit', (event) => {
  event.preventDefault();
  roomError.textContent = '';
  const input = byId('room-name');
  const room = input.value.trim();
  if (!ROOM_NAME.test(room)) {
    roomError.textContent = 'A room name is 1 to 32 lowercase letters, digits or -.';
    return;
  }
  if (joinedRooms.includes(room)) return;
  if (joinedRooms.length >= 8) {
    roomError.textContent = 'At most 8 rooms at once: leave one first.';
    return;
  }
  joinedRooms.push(room);
  renderRoomList();
  roomSelect.value = room;
  input.value = '';
  connectRooms();
});

byId('room-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  roomError.textContent = '';
  const room = roomSelect.value;
  const textInput = byId('room-text');
  if (room === '') {
    roomError.textContent = 'Join a room first.';
    return;
  }
  await postMessage(`/rooms/${encodeURIComponent(room)}/messages`, textInput, roomError);
});

// --- GET /private: only with a token, sent as Authorization: Bearer -----------------------

const privateState = byId('private-state');
const privateLog = byId('private-log');
const tokenInput = byId('private-token');
let privateClient = null;

function setPrivateState(state, label) {
  privateState.dataset.state = state;
  privateState.textContent = label;
}

function disconnectPrivate() {
  const client = privateClient;
  privateClient = null;
  client?.close();
}

byId('private-form').addEventListener('submit', (event) => {
  event.preventDefault();
  disconnectPrivate();
  privateState.dataset.opened = 'false';
  privateState.dataset.status = '';
  privateState.dataset.opens = '0';
  privateLog.replaceChildren();
  const client = createClient('/private', {
    // Read on every attempt: a token changed in the field (a refreshed one) is sent on the next
    // reconnect, and never in the URL, where server and proxy logs would keep it.
    headers: () => {
      const token = tokenInput.value.trim();
      return token === '' ? {} : { authorization: `Bearer ${token}` };
    },
    onOpen: () => {
      privateState.dataset.opened = 'true';
      privateState.dataset.opens = String(Number(privateState.dataset.opens) + 1);
      setPrivateState('open', 'open');
    },
    // Past the per-client cap the server says "come back later": the client waits and retries.
    onRetry: () => setPrivateState('reconnecting', 'reconnecting…'),
    onClose: (info) => {
      if (privateClient !== client) return;
      privateClient = null;
      if (info.reason === 'status') {
        // A 401 (no or wrong token): the status and the server's explanation, which EventSource never shows.
        privateState.dataset.status = String(info.status);
        setPrivateState('refused', `refused (${info.status}): ${info.body}`);
      } else setPrivateState('closed', 'closed');
    },
  });
  privateClient = client;
  setPrivateState('connecting', 'connecting…');
  client.on('private', ({ text, at, openPrivateStreams }) => {
    const item = document.createElement('li');
    item.textContent = `${timeOf(at)} ${text} (${plural(openPrivateStreams, 'private stream')} open)`;
    privateLog.prepend(item);
    while (privateLog.childElementCount > 5) privateLog.lastElementChild.remove();
  });
});

byId('private-disconnect').addEventListener('click', () => {
  disconnectPrivate();
  setPrivateState('idle', 'not connected');
});
