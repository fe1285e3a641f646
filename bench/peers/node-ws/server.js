// server.js - bench/loadgen's peer: the admission and redirect logic of
// shoal's signaling (signaling/connect.c, placement/route.c,
// node/signaling_admit.c) written the way large Node.js real-time services
// are, with the `ws` package on one event loop. Used for comparison only.
//
//   node server.js --host 127.0.0.1 --port 5000 --self ws://127.0.0.1:5000/signaling
//                  [--peers URL,URL,...] [--max-connections N]
//
// The same rules: first message a valid connect within 10 s (type, role,
// channel_id 1-255 printable ASCII, message <= 64 KiB, metadata <= 16 KiB,
// close 1007/1008/1009 otherwise); a channel held here admits; a new
// channel goes to the consistent-hash ring's node (160 points per node)
// unless the client was redirected already; admission assigns a 26-char
// connection_id, sends the offer shoald sends a client that has not answered
// yet (ICE-lite, BUNDLE of its own audio and video sections, the same lines,
// fresh ICE credentials) and then notify connection.created with the channel's
// counts to every client of it; ping every 30 s, close after two missed
// pongs; disconnect closes 1000. What it does not do (it has no cluster):
// gossip, claims, the replicated table, bounded load - work shoald does on
// top of this for every connect, so the ratio is in the peer's favour.
'use strict';
const { WebSocketServer } = require('ws');
const crypto = require('crypto');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const self = args.self;
const peers = (args.peers || self).split(',');
const maxConnections = Number(args['max-connections'] || 1000000);

// FNV-1a 64-bit via BigInt is slow; two 32-bit FNV-1a with different seeds make the point.
function fnv32(s, seed) {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h >>> 0;
}
const ring = [];
for (const p of peers) for (let v = 0; v < 160; v++) ring.push([fnv32(p + '#' + v, 2166136261), p]);
ring.sort((a, b) => a[0] - b[0]);
function ringOwner(id) {
  const h = fnv32(id, 2166136261);
  let lo = 0, hi = ring.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (ring[m][0] < h) lo = m + 1; else hi = m; }
  return ring[lo % ring.length][1];
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
function connectionId() {
  const r = crypto.randomBytes(26);
  let s = '';
  for (let i = 0; i < 26; i++) s += ALPHABET[r[i] & 31];
  return s;
}

const ROLES = new Set(['sendrecv', 'sendonly', 'recvonly']);
function parseConnect(text) {
  let m;
  try { m = JSON.parse(text); } catch (e) { return [1007, 'a message must be a JSON object']; }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return [1007, 'a message must be a JSON object'];
  if (m.type !== 'connect') return [1008, 'connect: the first message must be a connect'];
  if (!ROLES.has(m.role)) return [1008, 'connect: role must be sendrecv, sendonly or recvonly'];
  const c = m.channel_id;
  if (typeof c !== 'string' || c.length < 1 || c.length > 255 || !/^[\x21-\x7e]+$/.test(c))
    return [1008, 'connect: channel_id must be 1 to 255 printable ASCII characters without space'];
  if (m.metadata !== undefined && JSON.stringify(m.metadata).length > 16384) return [1009, 'connect: metadata too big'];
  return [0, m];
}

const channels = new Map(); // id -> {members: Set, counts}
let sessions = 0;

// The SDP of shoald's first offer to a client with no other tracks yet
// (media/sdp.c), so that both servers write the same bytes per admission.
const FINGERPRINT = Array.from(crypto.randomBytes(32), (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
const ICE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function iceString(n) { return Array.from(crypto.randomBytes(n), (b) => ICE[b & 63]).join(''); }
function offerSdp(host, port) {
  const ufrag = iceString(8), pwd = iceString(24);
  const section = (mid, kind, pt, codec) => [
    `m=${kind} 9 UDP/TLS/RTP/SAVPF ${pt}`, 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`, `a=fingerprint:sha-256 ${FINGERPRINT}`, 'a=setup:actpass',
    `a=mid:${mid}`, 'a=recvonly', 'a=rtcp-mux', ...(kind === 'video' ? ['a=rtcp-rsize'] : []), ...codec,
    `a=candidate:1 1 udp 2130706431 ${host} ${port} typ host`, 'a=end-of-candidates'];
  return ['v=0', `o=- 1 1 IN IP4 0.0.0.0`, 's=-', 't=0 0', 'a=ice-lite', 'a=group:BUNDLE 0 1', 'a=msid-semantic: WMS *',
    ...section(0, 'audio', 111, ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1']),
    ...section(1, 'video', 96, ['a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli',
      'a=rtcp-fb:96 ccm fir', 'a=rtcp-fb:96 goog-remb'])].join('\r\n') + '\r\n';
}

function notify(ch, event, subject) {
  const text = JSON.stringify({
    type: 'notify', event_type: event, role: subject.role, client_id: subject.clientId,
    connection_id: subject.connectionId, channel_id: subject.channel, channel_connections: ch.members.size,
    channel_sendrecv_connections: ch.counts.sendrecv, channel_sendonly_connections: ch.counts.sendonly,
    channel_recvonly_connections: ch.counts.recvonly,
  });
  for (const ws of ch.members) ws.send(text);
}

const wss = new WebSocketServer({ host: args.host, port: Number(args.port), maxPayload: 64 * 1024, path: '/signaling' });
wss.on('connection', (ws) => {
  const st = { state: 'connecting', unanswered: 0 };
  ws.st = st;
  st.timer = setTimeout(() => ws.close(1008, 'no connect message in time'), 10000);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return ws.close(1003, 'signaling messages are text frames');
    if (st.state === 'connecting') {
      const [code, m] = parseConnect(data.toString());
      if (code) return ws.close(code, m);
      clearTimeout(st.timer);
      const id = m.channel_id;
      let ch = channels.get(id);
      if (!ch && !m.redirect) {
        const owner = ringOwner(id);
        if (owner !== self) {
          st.state = 'redirected';
          ws.send(JSON.stringify({ type: 'redirect', location: owner }));
          st.timer = setTimeout(() => ws.close(1000, 'redirected'), 5000);
          return;
        }
      }
      if (sessions >= maxConnections) return ws.close(1013, 'NODE-FULL: max_connections reached');
      if (!ch) { ch = { members: new Set(), counts: { sendrecv: 0, sendonly: 0, recvonly: 0 } }; channels.set(id, ch); }
      st.state = 'open';
      st.channel = id;
      st.role = m.role;
      st.connectionId = connectionId();
      st.clientId = typeof m.client_id === 'string' && m.client_id ? m.client_id : st.connectionId;
      ch.members.add(ws);
      ch.counts[m.role]++;
      sessions++;
      ws.send(JSON.stringify({ type: 'offer', sdp: offerSdp(args.host, 5004), client_id: st.clientId,
        connection_id: st.connectionId, channel_id: id, simulcast: false, spotlight: false,
        mid: { audio: '0', video: '1' } }));
      notify(ch, 'connection.created', st);
      st.timer = setInterval(() => {
        if (st.unanswered >= 2) return ws.close(1008, 'no pong');
        st.unanswered++;
        ws.send('{"type":"ping","stats":false}');
      }, 30000);
      return;
    }
    if (st.state !== 'open') return;
    let m;
    try { m = JSON.parse(data.toString()); } catch (e) { return ws.close(1007, 'a message must be a JSON object'); }
    if (m && m.type === 'pong') st.unanswered = 0;
    else if (m && m.type === 'disconnect') ws.close(1000, 'disconnect');
  });
  ws.on('close', () => {
    clearTimeout(st.timer);
    clearInterval(st.timer);
    if (st.state !== 'open') return;
    st.state = 'closed';
    const ch = channels.get(st.channel);
    ch.members.delete(ws);
    ch.counts[st.role]--;
    sessions--;
    if (ch.members.size === 0) channels.delete(st.channel);
    else notify(ch, 'connection.destroyed', st);
  });
  ws.on('error', () => {});
});
wss.on('listening', () => console.error(`node-ws peer listening on ${args.host}:${args.port}`));
