// three_pages.mjs - three Chromium pages with the published sora-js-sdk join
// one channel through three different nodes (each is redirected to the
// channel's node if needed), send fake camera and microphone, and after
// 10 s each must have decoded video frames and audio from both others;
// then one leaves and the other two see its tracks removed. With
// --majority-loss (NODE_PIDS="pid1,pid2,pid3", API_PORT set): the two other
// nodes are paused (SIGSTOP), the channel's node, alone of three, must end
// both remaining sessions and free their media (shoal_media_peers 0), then
// the others are resumed (SIGCONT).
// Usage: node three_pages.mjs [--codec H264] [--majority-loss] URL1 URL2 URL3
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let codec = null, majorityLoss = false;
for (;;) {
  if (args[0] === "--codec") { codec = args[1]; args.splice(0, 2); }
  else if (args[0] === "--majority-loss") { majorityLoss = true; args.splice(0, 1); }
  else break;
}
const urls = args;
if (urls.length !== 3) { console.error("usage: three_pages.mjs [--codec VP8|H264] URL1 URL2 URL3"); process.exit(2); }
const HTTP_PORT = Number(process.env.PAGE_PORT || 47419);
const CHANNEL = "browser-room-" + (codec || "default") + "-" + process.pid;
const t0 = Date.now();
const log = (m) => console.log(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s  ${m}`);
const fail = (m) => { console.error("FAIL: " + m); process.exitCode = 1; throw new Error(m); };

const files = {
  "/": [path.join(here, "page.html"), "text/html"],
  "/favicon.ico": [path.join(here, "page.html"), "text/html"],
  "/sora.mjs": [path.join(here, "node_modules/sora-js-sdk/dist/sora.mjs"), "text/javascript"],
};
const server = http.createServer((req, res) => {
  const f = files[req.url];
  if (!f) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { "content-type": f[1] });
  res.end(fs.readFileSync(f[0]));
});
await new Promise((r) => server.listen(HTTP_PORT, "127.0.0.1", r));

const paused = [];
function resumeAll() { for (const pid of paused.splice(0)) { try { process.kill(pid, "SIGCONT"); } catch {} } }
async function metric(host, name) {
  const res = await fetch(`http://${host}:${process.env.API_PORT}/metrics`);
  const line = (await res.text()).split("\n").find((l) => l.startsWith(name + " "));
  return line ? Number(line.split(" ")[1]) : NaN;
}
async function loseMajority(remaining, ownerUrl) {
  const pids = (process.env.NODE_PIDS || "").split(",").map(Number);
  const host = new URL(ownerUrl).hostname, owner = Number(host.split(".")[3]);
  if (pids.length !== 3 || !process.env.API_PORT) fail("--majority-loss needs NODE_PIDS and API_PORT");
  if (await metric(host, "shoal_media_peers") !== 2) fail(`node ${owner} does not hold 2 media peers`);
  const t = Date.now();
  for (let n = 1; n <= 3; n++) if (n !== owner) { process.kill(pids[n - 1], "SIGSTOP"); paused.push(pids[n - 1]); }
  log(`nodes other than ${owner} paused (SIGSTOP): node ${owner} is alone of 3`);
  for (let i = 0; i < remaining.length; i++) {
    for (;;) {
      const ev = (await remaining[i].evaluate(() => window.events)).filter((e) => e[0] === "disconnect");
      if (ev.length) { log(`ok: page ${i + 1} disconnected after ${((Date.now() - t) / 1000).toFixed(1)}s: ${ev[0].slice(1).join(" ")}`); break; }
      if (Date.now() - t > 20000) fail(`page ${i + 1} still connected 20 s after its node lost majority`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  for (;;) {
    const peers = await metric(host, "shoal_media_peers");
    if (peers === 0) break;
    if (Date.now() - t > 25000) fail(`node ${owner} still holds ${peers} media peers without majority`);
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`ok: node ${owner} freed every media peer (shoal_media_peers 0)`);
  resumeAll();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",   // host candidates on 127.0.0.x
    "--no-sandbox",                          // CI runs as root
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required", // remote media plays without a click
  ],
});
try {
  const ctx = await browser.newContext();
  try {
    await ctx.grantPermissions(["camera", "microphone", "local-network-access"], { origin: `http://127.0.0.1:${HTTP_PORT}` });
  } catch (e) {
    await ctx.grantPermissions(["camera", "microphone"], { origin: `http://127.0.0.1:${HTTP_PORT}` });
  }
  const pages = [];
  for (let i = 0; i < 3; i++) {
    const p = await ctx.newPage();
    p.on("console", (m) => { if (m.type() === "error" && !m.text().includes("404")) log(`page ${i + 1} console: ${m.text()}`); });
    await p.goto(`http://127.0.0.1:${HTTP_PORT}/`);
    pages.push(p);
  }
  const joined = [];
  for (let i = 0; i < 3; i++) {
    const r = await pages[i].evaluate(([u, c, v]) => window.join(u, c, v), [urls[i], CHANNEL, codec]).catch((e) => fail(`page ${i + 1} did not connect through ${urls[i]}: ${e.message}`));
    joined.push(r);
    log(`page ${i + 1} joined through ${urls[i]}, connected to ${r.url} as ${r.connectionId} (video ${r.codec})`);
    if (codec && r.codec !== codec) fail(`page ${i + 1} was offered ${r.codec}, not ${codec}`);
  }
  const owners = new Set(joined.map((j) => j.url));
  if (owners.size !== 1) fail(`the pages ended up on different nodes: ${[...owners].join(", ")}`);
  const redirected = joined.filter((j, i) => j.url !== urls[i]).length;
  log(`ok: all three on the channel's node ${[...owners][0]} (${redirected} of 3 redirected there)`);

  await new Promise((r) => setTimeout(r, 10000));
  for (let i = 0; i < 3; i++) {
    const s = await pages[i].evaluate(() => window.inbound());
    const others = joined.filter((_, k) => k !== i).map((j) => j.connectionId);
    for (const o of others) {
      const d = s.decoded[o];
      if (!d || d.videoFrames <= 0 || d.audioSamples <= 0)
        fail(`page ${i + 1} has not decoded both media of ${o}: ${JSON.stringify(s)}`);
    }
    const figures = others.map((o) => `${s.decoded[o].videoFrames} frames/${s.decoded[o].audioSamples} samples`).join(", ");
    log(`ok: page ${i + 1} decoded video and audio from both others (${figures})`);
  }

  const leaver = joined[2].connectionId;
  await pages[2].evaluate(() => window.leave());
  log(`page 3 (${leaver}) left`);
  const deadline = Date.now() + 10000;
  for (let i = 0; i < 2; i++) {
    for (;;) {
      const rs = await pages[i].evaluate(() => window.remoteStreams);
      if (!rs[leaver] || rs[leaver].length === 0) break;
      if (Date.now() > deadline) {
        const ev = await pages[i].evaluate(() => window.events);
        fail(`page ${i + 1} still has page 3's tracks: ${JSON.stringify(rs)}; its events: ${JSON.stringify(ev)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    log(`ok: page ${i + 1} saw page 3's tracks removed`);
  }
  if (majorityLoss) await loseMajority(pages.slice(0, 2), joined[0].url);
} finally {
  resumeAll();
  await browser.close();
  server.close();
}
