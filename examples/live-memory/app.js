// The live-memory page: the stock y-websocket client on an agent's memory document
// (ws://NODE/yjs/agent/AGENT). Episodes are shown as they change (agents, the CLI, other people);
// notes are editable. The badge: "replicated" once the node echoed every local change (the
// node echoes only after a majority stored it), "pending" while some are not yet echoed.
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';

const params = new URLSearchParams(location.search);
const node = params.get('node') ?? '127.0.10.1:10080';
const agent = params.get('agent') ?? 'researcher';
const token = params.get('token');
document.getElementById('agent').textContent = agent;
document.getElementById('node').textContent = node;
const statusEl = document.getElementById('status');

const doc = new Y.Doc();
const provider = new WebsocketProvider(`ws://${node}/yjs/agent`, agent, doc, { params: token ? { token } : {}, disableBc: true });
window.liveMemory = { doc, provider };

// Echo tracking: local updates not yet seen coming back from the node.
let unconfirmed = 0;
let denied = '';
const pendingIds = [];
doc.on('update', (update, origin) => {
  if (origin === provider) return; // from the node
  const meta = Y.parseUpdateMeta(update);
  pendingIds.push(meta);
  unconfirmed++;
  render();
});
provider.messageHandlers[2] = (_encoder, decoder) => {
  decoder.pos = decoder.arr.length;
  denied = 'the node refused an edit (see the console)';
  renderStatus();
};
// The node's echo of our own update arrives as a sync Update; count it off by its id range.
const original = provider.messageHandlers[0];
provider.messageHandlers[0] = (encoder, decoder, prov, emitSynced, type) => {
  const start = decoder.pos;
  const sub = decoder.arr[start];
  if (sub === 2) {
    const copy = { arr: decoder.arr, pos: start + 1 };
    const len = readVarUint(copy);
    const update = decoder.arr.subarray(copy.pos, copy.pos + len);
    const meta = Y.parseUpdateMeta(update);
    for (let i = pendingIds.length - 1; i >= 0; i--) if (covers(meta, pendingIds[i])) {
      pendingIds.splice(i, 1);
      unconfirmed--;
    }
  }
  original(encoder, decoder, prov, emitSynced, type);
  renderStatus();
};
provider.on('status', renderStatus);
provider.on('sync', render);

function readVarUint(d) {
  let n = 0, mult = 1;
  for (;;) {
    const b = d.arr[d.pos++];
    n += (b & 0x7f) * mult;
    if (b < 0x80) return n;
    mult *= 128;
  }
}
function covers(echo, mine) {
  for (const [client, from] of mine.from) {
    const f = echo.from.get(client), t = echo.to.get(client);
    if (f === undefined || f > from || t < mine.to.get(client)) return false;
  }
  return true;
}

function renderStatus() {
  const cls = denied ? 'denied' : !provider.wsconnected ? 'offline' : unconfirmed > 0 ? 'pending' : 'replicated';
  statusEl.className = cls;
  statusEl.textContent = denied || { offline: 'offline', pending: `${unconfirmed} edit(s) waiting for a majority`, replicated: 'replicated' }[cls];
}

const list = document.getElementById('episodes');
const boxes = new Map();
function render() {
  renderStatus();
  const episodes = doc.getMap('episodes');
  const ids = [...episodes.keys()].sort((a, b) => (episodes.get(a).get('createdAt') ?? 0) - (episodes.get(b).get('createdAt') ?? 0));
  for (const id of ids) {
    const ep = episodes.get(id);
    const notes = ep.get('notes');
    if (!(notes instanceof Y.Text)) continue;
    let box = boxes.get(id);
    if (!box) {
      box = document.createElement('div');
      box.className = 'episode';
      box.dataset.id = id;
      box.innerHTML = '<h3></h3><div class="meta"></div><textarea></textarea>';
      const area = box.querySelector('textarea');
      area.addEventListener('input', () => applyText(notes, area.value));
      list.appendChild(box);
      boxes.set(id, box);
    }
    box.querySelector('h3').textContent = `${ep.get('task')}: ${ep.get('outcome')}`;
    box.querySelector('.meta').textContent = `episode ${id}, written on ${ep.get('node')}`;
    const area = box.querySelector('textarea');
    if (area.value !== notes.toString()) area.value = notes.toString();
  }
}
doc.getMap('episodes').observeDeep(render);

/** Turns the textarea's new value into the smallest Y.Text edit (common prefix and suffix kept). */
function applyText(text, value) {
  const old = text.toString();
  let start = 0;
  while (start < old.length && start < value.length && old[start] === value[start]) start++;
  let endOld = old.length, endNew = value.length;
  while (endOld > start && endNew > start && old[endOld - 1] === value[endNew - 1]) { endOld--; endNew--; }
  doc.transact(() => {
    if (endOld > start) text.delete(start, endOld - start);
    if (endNew > start) text.insert(start, value.slice(start, endNew));
  });
}
