/**
 * The dashboard page: one self-contained HTML document (inline CSS and JS, no build step, no CDN;
 * the cluster may run without internet access). It reads `/api/status` once, then follows
 * `/events` (server-sent events); if the stream fails it falls back to polling. Charts are inline
 * SVG drawn here.
 *
 * The client script avoids template literals so that this file can hold it in one.
 */
export function dashboardPage(clusterName: string): string {
  const title = escapeHtml(clusterName);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Troupe GFS · ${title}</title>
<style>
  :root { --bg:#f4f6f9; --card:#fff; --ink:#1d2330; --muted:#667085; --line:#e3e7ee; --ok:#12805c; --ok-bg:#e6f6ef; --warn:#b25e09; --warn-bg:#fff4e0; --bad:#c0262d; --bad-bg:#fdeaea; --accent:#2f5fd0; --accent2:#8a54d6; }
  * { box-sizing: border-box; }
  body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; background:var(--bg); color:var(--ink); }
  header { display:flex; align-items:baseline; gap:16px; padding:14px 24px; background:#1d2330; color:#fff; }
  header h1 { font-size:18px; margin:0; font-weight:600; }
  header .sub { color:#aab3c5; font-size:13px; }
  header .live { margin-left:auto; font-size:12px; color:#aab3c5; }
  header .dot { display:inline-block; width:8px; height:8px; border-radius:50%; background:#888; margin-right:6px; vertical-align:middle; }
  header .dot.on { background:#3ddc97; }
  main { padding:18px 24px 32px; max-width:1280px; margin:0 auto; }
  #health { border-radius:10px; padding:14px 18px; font-size:16px; font-weight:600; margin-bottom:16px; border:1px solid transparent; }
  #health .detail { display:block; font-weight:400; font-size:13px; margin-top:2px; }
  #health[data-health=healthy] { background:var(--ok-bg); color:var(--ok); border-color:#b7e4cf; }
  #health[data-health=degraded] { background:var(--warn-bg); color:var(--warn); border-color:#f3d29b; }
  #health[data-health=critical] { background:var(--bad-bg); color:var(--bad); border-color:#f1b5b8; }
  #health[data-health=unknown] { background:#eceff4; color:var(--muted); }
  .cards { display:grid; grid-template-columns:repeat(5, 1fr); gap:10px; margin-bottom:16px; }
  .card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:10px 14px; }
  .card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
  .card .v { font-size:22px; font-weight:600; margin-top:2px; font-variant-numeric: tabular-nums; }
  .card .s { color:var(--muted); font-size:12px; }
  .card .v.warn { color:var(--warn); } .card .v.bad { color:var(--bad); }
  .grid2 { display:grid; grid-template-columns:1fr 1fr; gap:14px; margin-bottom:16px; }
  @media (max-width: 900px) { .grid2 { grid-template-columns:1fr; } }
  section.panel { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 16px; margin-bottom:16px; }
  section.panel h2 { font-size:14px; margin:0 0 8px; font-weight:600; }
  section.panel h2 small { color:var(--muted); font-weight:400; margin-left:6px; }
  table { width:100%; border-collapse:collapse; font-variant-numeric: tabular-nums; }
  th { text-align:left; color:var(--muted); font-weight:500; font-size:12px; border-bottom:1px solid var(--line); padding:6px 8px; }
  td { padding:7px 8px; border-bottom:1px solid var(--line); }
  tr:last-child td { border-bottom:none; }
  td.num, th.num { text-align:right; }
  .badge { display:inline-block; padding:1px 9px; border-radius:999px; font-size:12px; font-weight:600; }
  .badge.up { background:var(--ok-bg); color:var(--ok); }
  .badge.down { background:var(--bad-bg); color:var(--bad); }
  .badge.drain { background:var(--warn-bg); color:var(--warn); }
  tr[data-state=down] td { color:#98a0ae; }
  tr[data-state=down] td.state { color:inherit; }
  .progress { height:10px; background:#f6e2c0; border-radius:5px; overflow:hidden; margin-top:8px; }
  .progress-label { display:block; font-weight:400; font-size:12px; margin-top:4px; }
  .progress > span { display:block; height:100%; background:var(--warn); }
  svg text { font-size:11px; fill:var(--muted); font-family:inherit; }
  .legend { font-size:12px; color:var(--muted); margin-top:4px; }
  .legend i { display:inline-block; width:10px; height:3px; vertical-align:middle; margin:0 4px 0 10px; }
  ul.events { list-style:none; margin:0; padding:0; max-height:260px; overflow:auto; font-size:13px; }
  ul.events li { padding:4px 0; border-bottom:1px dashed var(--line); display:flex; gap:10px; }
  ul.events li time { color:var(--muted); font-variant-numeric: tabular-nums; flex:none; }
  ul.events li.warn span { color:var(--warn); } ul.events li.error span { color:var(--bad); }
  .muted { color:var(--muted); }
</style>
</head>
<body>
<header>
  <h1>Troupe GFS</h1><span class="sub">cluster ${title}</span>
  <span class="live"><span class="dot" id="live-dot"></span><span id="live-text">connecting…</span></span>
</header>
<main>
  <div id="health" data-health="unknown">Waiting for the master…<span class="detail"></span></div>
  <div class="cards" id="totals"></div>
  <div class="grid2">
    <section class="panel"><h2>Disk use per chunkserver<small>bytes used, bars relative to the fullest</small></h2><div id="chart-disk"></div></section>
    <section class="panel"><h2>Replication backlog<small>chunks, up to the last 5 minutes</small></h2><div id="chart-backlog"></div>
      <div class="legend"><i style="background:var(--warn)"></i>under-replicated chunks<i style="background:var(--accent2)"></i>clones in flight<i style="background:var(--bad)"></i>missing</div></section>
  </div>
  <section class="panel"><h2>Chunkservers<small id="servers-summary"></small></h2>
    <table id="servers"><thead><tr><th>Server</th><th>Rack</th><th>Host</th><th>State</th><th>Disk use</th><th class="num">Chunks</th><th class="num">Leases (primary)</th><th class="num">Recent creations</th><th class="num">Read</th><th class="num">Written</th><th class="num">Pushed in</th><th class="num">Cloned in</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="panel" id="ceph-panel" hidden><h2>Ceph-style cluster<small id="ceph-summary"></small></h2>
    <table id="ceph-mons"><thead><tr><th>Monitor</th><th>Role</th><th class="num">Last committed</th><th class="num">Election epoch</th></tr></thead><tbody></tbody></table>
    <table id="ceph-osds" style="margin-top:10px"><thead><tr><th>OSD</th><th>Rack</th><th>Host</th><th>Up</th><th>In</th><th class="num">Weight</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="panel" id="ceph-data-panel" hidden><h2>Ceph data path<small id="ceph-data-summary"></small></h2>
    <table id="ceph-data-osds"><thead><tr><th>OSD</th><th>State</th><th class="num">PGs held (active)</th><th class="num">Store used</th><th class="num">Writes</th><th class="num">Written</th><th class="num">Reads</th><th class="num">Read</th><th class="num">Ack p50 / p99</th><th class="num">Commit p50 / p99</th></tr></thead><tbody></tbody></table>
    <div class="grid2" style="margin:12px 0 0">
      <div><h2>Ack latency<small>client ops acked (applied on every replica), all OSDs</small></h2><div id="chart-ceph-ack"></div></div>
      <div><h2>Commit latency<small>client ops committed (durable on every replica), all OSDs</small></h2><div id="chart-ceph-commit"></div></div>
    </div>
    <div class="grid2" style="margin:0">
      <div><h2>PGs by state<small id="ceph-pg-activity"></small></h2><table id="ceph-pg-states"><thead><tr><th>State</th><th class="num">PGs</th></tr></thead><tbody></tbody></table></div>
      <div><h2>Pools<small>usage counted at each PG's first OSD, one copy</small></h2><table id="ceph-pools"><thead><tr><th>Pool</th><th>Replication</th><th class="num">Size</th><th class="num">PGs</th><th class="num">Objects</th><th class="num">Bytes</th><th class="num">Raw (× size)</th></tr></thead><tbody></tbody></table></div>
    </div>
  </section>
  <section class="panel" id="ceph-pgs-panel" hidden><h2>PG states over time<small>as the primaries report them, up to the last 5 minutes</small></h2><div id="chart-ceph-pgs"></div>
    <p id="ceph-recovery" class="muted"></p></section>
  <section class="panel" id="coord-panel" hidden><h2>Coordination service<small id="coord-summary"></small></h2>
    <table id="coord-servers"><thead><tr><th>Server</th><th>Role</th><th class="num">Zxid</th><th class="num">Lag (txns)</th><th class="num">Sessions</th><th class="num">Watches</th><th class="num">Outstanding</th><th class="num">Connections</th><th class="num">Znodes</th></tr></thead><tbody></tbody></table>
  </section>
  <div class="grid2">
    <section class="panel"><h2>Recent events</h2><ul class="events" id="events"></ul></section>
    <section class="panel"><h2>Runtime<small>master mailboxes and worker threads</small></h2><div id="runtime"></div></section>
  </div>
</main>
<script>
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var esc = function (s) { return String(s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; }); };
  var bytes = function (n) {
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']; var i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + u[i];
  };
  var pct = function (a, b) { return b > 0 ? Math.min(100, 100 * a / b) : 0; };
  var clock = function (t) { var d = new Date(t); return d.toLocaleTimeString([], { hour12: false }); };
  var SVG = 'http://www.w3.org/2000/svg';
  var lastSnapshot = 0;

  function health(s) {
    if (!s.status && s.ceph && s.ceph.status) return { level: s.ceph.status.health === 'HEALTH_OK' ? 'healthy' : s.ceph.status.health === 'HEALTH_WARN' ? 'degraded' : 'critical', text: s.ceph.status.health, detail: s.ceph.status.checks.join('; ') || 'all OSDs up, all PGs active+clean' };
    if (!s.status && !s.ceph && s.coord) {
      var cz = s.coord; var down = cz.total - cz.up;
      if (cz.up === 0) return { level: 'critical', text: 'Coordination service unreachable', detail: 'no server answered mntr' };
      if (cz.leader === null) return { level: 'critical', text: 'No leader', detail: cz.up + '/' + cz.total + ' servers answer, none leads' };
      if (down > 0) return { level: 'degraded', text: 'Degraded', detail: down + ' of ' + cz.total + ' coordination servers not answering' };
      return { level: 'healthy', text: 'Healthy', detail: 'all ' + cz.total + ' coordination servers up, leader ' + cz.leader };
    }
    if (!s.status) return { level: 'unknown', text: 'Master unreachable', detail: s.error || 'no status yet' };
    var st = s.status; var down = st.servers.filter(function (x) { return !x.alive; });
    if (s.error) return { level: 'critical', text: 'Master not answering', detail: s.error + ' (showing the last status)' };
    if (st.missing > 0) return { level: 'critical', text: 'Data unavailable: ' + st.missing + ' chunk(s) have no live replica', detail: down.length + ' chunkserver(s) down' };
    if (down.length > 0 || st.underReplicated > 0) {
      var parts = [];
      if (down.length > 0) parts.push(down.length + ' chunkserver(s) down: ' + down.map(function (x) { return x.server; }).join(', '));
      if (st.underReplicated > 0) parts.push(st.underReplicated + ' chunk(s) under-replicated, ' + st.clonesInFlight + ' clone(s) in flight');
      else parts.push('every chunk fully replicated on the live servers');
      return { level: 'degraded', text: 'Degraded', detail: parts.join(' · ') };
    }
    if (st.servers.length === 0) return { level: 'degraded', text: 'No chunkservers yet', detail: 'waiting for the first heartbeat' };
    return { level: 'healthy', text: 'Healthy', detail: 'all ' + st.servers.length + ' chunkservers up, every chunk fully replicated' };
  }

  function card(k, v, cls, id, sub) { return '<div class="card" data-metric="' + id + '"><div class="k">' + esc(k) + '</div><div class="v ' + (cls || '') + '">' + esc(v) + '</div>' + (sub ? '<div class="s">' + esc(sub) + '</div>' : '') + '</div>'; }

  function renderTotals(s) {
    var st = s.status; if (!st) { $('totals').innerHTML = ''; return; }
    var up = st.servers.filter(function (x) { return x.alive; }).length;
    var used = 0, cap = 0; st.servers.forEach(function (x) { if (x.alive) { used += x.usedBytes; cap += x.capacityBytes; } });
    $('totals').innerHTML = [
      card('Servers up', up + ' / ' + st.servers.length, up < st.servers.length ? 'warn' : '', 'servers-up'),
      card('Files', st.files, '', 'files'), card('Directories', st.directories, '', 'directories'), card('Chunks', st.chunks, '', 'chunks'),
      card('Under-replicated', st.underReplicated, st.underReplicated > 0 ? 'warn' : '', 'under-replicated'),
      card('Missing', st.missing, st.missing > 0 ? 'bad' : '', 'missing'),
      card('Clones in flight', st.clonesInFlight, '', 'clones'), card('Leases', st.leases, '', 'leases'),
      card('Clients', s.clients || 0, '', 'clients', 'connections open now'),
      card('Disk used', bytes(used), '', 'disk', pct(used, cap).toFixed(1) + '% of ' + bytes(cap) + ' (live servers)'), card('Master LSN', st.lsn, '', 'lsn', 'operation log')
    ].join('');
  }

  function renderHealth(s) {
    var h = health(s); var el = $('health');
    el.setAttribute('data-health', h.level);
    var progress = '';
    if (s.replicationProgress !== null && s.replicationProgress !== undefined && s.status) {
      progress = '<div class="progress" title="re-replication progress"><span style="width:' + (100 * s.replicationProgress).toFixed(1) + '%"></span></div>' +
        '<span class="progress-label">re-replication ' + (100 * s.replicationProgress).toFixed(0) + '% done · ' + s.status.underReplicated + ' chunk(s) left, ' + s.status.clonesInFlight + ' clone(s) in flight</span>';
    }
    el.innerHTML = esc(h.text) + '<span class="detail">' + esc(h.detail) + '</span>' + progress;
  }

  function trafficCells(t) {
    if (!t) return '<td class="num muted" colspan="4" title="the server did not answer">—</td>';
    var c = function (n, ops) { return '<td class="num">' + bytes(n) + (ops === undefined ? '' : ' <span class="muted">(' + ops + ')</span>') + '</td>'; };
    return c(t.readBytes, t.reads) + c(t.writtenBytes, t.mutations) + c(t.pushedBytes) + c(t.clonedBytes);
  }

  function renderServers(s) {
    var st = s.status; var body = $('servers').tBodies[0];
    if (!st) { body.innerHTML = '<tr><td colspan="12" class="muted">no status</td></tr>'; return; }
    body.innerHTML = st.servers.map(function (x) {
      var state = x.alive ? 'up' : 'down';
      var badge = '<span class="badge ' + state + '">' + state + '</span>';
      if (x.decommission !== 'none') badge += ' <span class="badge drain">' + esc(x.decommission === 'done' ? 'decommissioned' : 'draining') + '</span>';
      var p = pct(x.usedBytes, x.capacityBytes);
      return '<tr data-server="' + esc(x.server) + '" data-state="' + state + '"><td><b>' + esc(x.server) + '</b></td><td>' + esc(x.rack) + '</td><td>' + esc(x.host) + '</td><td class="state">' + badge + '</td>' +
        '<td>' + bytes(x.usedBytes) + ' <span class="muted">of ' + bytes(x.capacityBytes) + ' (' + (p < 0.1 && p > 0 ? '&lt;0.1' : p.toFixed(1)) + '%)</span></td>' +
        '<td class="num">' + x.chunks + '</td><td class="num">' + x.leases + '</td><td class="num">' + x.recentCreations + '</td>' + trafficCells(s.traffic && s.traffic[x.server]) + '</tr>';
    }).join('');
    var up = st.servers.filter(function (x) { return x.alive; }).length;
    $('servers-summary').textContent = up + ' up, ' + (st.servers.length - up) + ' down';
  }

  function el(name, attrs, text) {
    var e = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderDiskChart(s) {
    var box = $('chart-disk'); box.innerHTML = '';
    var st = s.status; if (!st || st.servers.length === 0) { box.innerHTML = '<p class="muted">no chunkservers</p>'; return; }
    var rowH = 26, left = 56, right = 190, w = 520, h = st.servers.length * rowH + 10;
    // Bars are scaled to the fullest server, so that imbalance shows even on a large disk; the label gives the share of capacity.
    var maxUsed = 1; st.servers.forEach(function (x) { maxUsed = Math.max(maxUsed, x.usedBytes); });
    var svg = el('svg', { viewBox: '0 0 ' + w + ' ' + h, width: '100%', role: 'img', 'aria-label': 'disk use per chunkserver' });
    st.servers.forEach(function (x, i) {
      var y = 6 + i * rowH, bw = w - left - right, p = pct(x.usedBytes, x.capacityBytes), f = x.usedBytes / maxUsed;
      svg.appendChild(el('text', { x: 0, y: y + 14 }, x.server));
      svg.appendChild(el('rect', { x: left, y: y + 3, width: bw, height: 14, rx: 3, fill: '#edf0f5' }));
      svg.appendChild(el('rect', { x: left, y: y + 3, width: Math.max(f > 0 ? 2 : 0, bw * f), height: 14, rx: 3, fill: x.alive ? (p > 90 ? '#c0262d' : '#2f5fd0') : '#b9c0cc' }));
      svg.appendChild(el('text', { x: left + bw + 8, y: y + 14 }, bytes(x.usedBytes) + ' · ' + (p < 0.1 && p > 0 ? '<0.1' : p.toFixed(1)) + '% of disk' + (x.alive ? '' : ' (down)')));
    });
    box.appendChild(svg);
  }

  // A line chart of samples over time ({ time, key: value … }), window growing with the history from 1 to 5 minutes.
  function timeChart(boxId, label, hist, now, series, legend) {
    var box = $(boxId); box.innerHTML = '';
    var w = 520, h = 150, l = 36, r = 8, t = 8, b = 20;
    var svg = el('svg', { viewBox: '0 0 ' + w + ' ' + h, width: '100%', role: 'img', 'aria-label': label });
    // The window grows with the history, from 1 to 5 minutes, so a young cluster's chart is not a sliver at the right edge.
    var first = hist.length > 0 ? hist[0].time : now, span = Math.min(300000, Math.max(60000, now - first)), t0 = now - span;
    var max = 1; hist.forEach(function (p) { series.forEach(function (sr) { max = Math.max(max, p[sr[0]]); }); });
    var X = function (tm) { return l + (w - l - r) * Math.max(0, tm - t0) / span; };
    var Y = function (v) { return t + (h - t - b) * (1 - v / max); };
    [0, 0.5, 1].forEach(function (f) {
      var v = Math.round(max * f);
      svg.appendChild(el('line', { x1: l, x2: w - r, y1: Y(v), y2: Y(v), stroke: '#e3e7ee' }));
      svg.appendChild(el('text', { x: l - 6, y: Y(v) + 4, 'text-anchor': 'end' }, String(v)));
    });
    [5, 4, 3, 2, 1, 0].forEach(function (k, i) {
      var ago = Math.round(span * k / 5000), lab = k === 0 ? 'now' : (ago >= 60 && ago % 60 === 0 ? '-' + (ago / 60) + 'm' : '-' + ago + 's');
      svg.appendChild(el('text', { x: l + (w - l - r) * i / 5, y: h - 4, 'text-anchor': i === 0 ? 'start' : (i === 5 ? 'end' : 'middle') }, lab));
    });
    series.forEach(function (sr) {
      var pts = hist.filter(function (p) { return p.time >= t0; }).map(function (p) { return X(p.time).toFixed(1) + ',' + Y(p[sr[0]]).toFixed(1); });
      if (pts.length > 0) svg.appendChild(el('polyline', { points: pts.join(' '), fill: 'none', stroke: sr[1], 'stroke-width': 2, 'stroke-linejoin': 'round' }));
    });
    if (legend) series.forEach(function (sr, i) { svg.appendChild(el('text', { x: l + 8 + i * 100, y: t + 12, fill: sr[1] }, sr[0])); });
    box.appendChild(svg);
  }

  function renderBacklogChart(s) {
    timeChart('chart-backlog', 'replication backlog over time', s.history || [], s.time, [['missing', '#c0262d'], ['clonesInFlight', '#8a54d6'], ['underReplicated', '#b25e09']], false);
  }

  function renderEvents(s) {
    var ev = (s.events || []).slice().reverse();
    $('events').innerHTML = ev.length === 0 ? '<li class="muted">nothing yet</li>' : ev.map(function (e) { return '<li class="' + e.level + '"><time>' + clock(e.time) + '</time><span>' + esc(e.text) + '</span></li>'; }).join('');
  }

  function renderRuntime(s) {
    var rows = (s.mailboxes || []).map(function (m) { return '<tr><td>' + esc(m.actor) + '</td><td>' + esc(m.role) + '</td><td class="num">' + m.depth + ' / ' + m.capacity + '</td></tr>'; }).join('');
    var wrows = (s.workers || []).map(function (w) { return '<tr><td>' + esc(w.node) + '</td><td class="num">' + w.actors + '</td><td class="num">' + bytes(w.heapUsedBytes) + '</td><td class="num">' + w.pendingAsks + '</td></tr>'; }).join('');
    $('runtime').innerHTML = '<table><thead><tr><th>Actor</th><th>Role</th><th class="num">Mailbox depth</th></tr></thead><tbody>' + rows + '</tbody></table>' +
      '<table style="margin-top:10px"><thead><tr><th>Worker thread</th><th class="num">Actors</th><th class="num">Heap used</th><th class="num">Pending asks</th></tr></thead><tbody>' + wrows + '</tbody></table>';
  }

  function renderCeph(s) {
    var c = s.ceph; var panel = $('ceph-panel');
    if (!c) { panel.hidden = true; return; }
    panel.hidden = false;
    var st = c.status;
    $('ceph-summary').textContent = st ? (st.health + ' · osdmap e' + st.epoch + ' · quorum ' + (st.monitors.quorum.map(function (r) { return 'mon' + r; }).join(',') || 'none') + (st.monitors.leader === undefined || st.monitors.leader === null ? '' : ' · leader mon' + st.monitors.leader) + ' · ' + st.osds.up + '/' + st.osds.total + ' OSDs up, ' + st.osds.in + ' in · ' + st.pgs.total + ' PGs') : ('no map: ' + (c.error || ''));
    $('ceph-mons').tBodies[0].innerHTML = c.monitors.map(function (m) { return '<tr><td>' + esc(m.name) + '</td><td>' + esc(m.role) + '</td><td class="num">' + (m.lastCommitted === null ? '–' : m.lastCommitted) + '</td><td class="num">' + (m.electionEpoch === null ? '–' : m.electionEpoch) + '</td></tr>'; }).join('');
    $('ceph-osds').tBodies[0].innerHTML = c.osds.map(function (o) { return '<tr><td>osd.' + o.id + '</td><td>' + esc(o.rack || '–') + '</td><td>' + esc(o.host || '–') + '</td><td>' + (o.up ? 'up' : '<b>down</b>') + '</td><td>' + (o.in ? 'in' : 'out') + '</td><td class="num">' + o.weight.toFixed(2) + '</td></tr>'; }).join('');
  }

  // ----- Ceph data path: per-OSD ops and bytes, ack and commit latency histograms, PG states, pools -----

  /** The upper bound (ms) of the bucket holding quantile q of a histogram, or '> last' for the overflow bucket. */
  function histQuantile(counts, bounds, q) {
    var total = 0; counts.forEach(function (n) { total += n; });
    if (total === 0) return '–';
    var need = q * total, cum = 0;
    for (var i = 0; i < counts.length; i++) {
      cum += counts[i];
      if (cum >= need) return i < bounds.length ? '≤ ' + bounds[i] + ' ms' : '> ' + bounds[bounds.length - 1] + ' ms';
    }
    return '–';
  }

  function sumBuckets(osds, key, n) {
    var out = []; for (var i = 0; i < n; i++) out.push(0);
    osds.forEach(function (o) { if (o.stats) o.stats[key].forEach(function (c, i) { if (i < n) out[i] += c; }); });
    return out;
  }

  function renderLatencyChart(boxId, counts, bounds, label) {
    var box = $(boxId); box.innerHTML = '';
    var total = 0, max = 1; counts.forEach(function (n) { total += n; max = Math.max(max, n); });
    box.setAttribute('data-total', String(total));
    if (total === 0) { box.innerHTML = '<p class="muted">no ' + esc(label) + ' yet</p>'; return; }
    var w = 520, h = 150, l = 8, b = 34, t = 16, bw = (w - l * 2) / counts.length;
    var svg = el('svg', { viewBox: '0 0 ' + w + ' ' + h, width: '100%', role: 'img', 'aria-label': label + ' latency histogram' });
    counts.forEach(function (n, i) {
      var x = l + i * bw, bh = (h - t - b) * n / max, lab = i < bounds.length ? '≤' + bounds[i] : '>' + bounds[bounds.length - 1];
      var g = el('g', { 'data-bucket': i < bounds.length ? String(bounds[i]) : '+Inf', 'data-count': String(n) });
      g.appendChild(el('rect', { x: x + 2, y: h - b - bh, width: bw - 4, height: Math.max(n > 0 ? 1 : 0, bh), rx: 2, fill: label === 'acks' ? '#2f5fd0' : '#12805c' }));
      if (n > 0) g.appendChild(el('text', { x: x + bw / 2, y: h - b - bh - 3, 'text-anchor': 'middle' }, String(n)));
      g.appendChild(el('text', { x: x + bw / 2, y: h - b + 14, 'text-anchor': 'middle' }, lab));
      svg.appendChild(g);
    });
    svg.appendChild(el('text', { x: w / 2, y: h - 4, 'text-anchor': 'middle' }, 'ms (bucket upper bound) · ' + total + ' ' + label));
    box.appendChild(svg);
  }

  function renderCephDataPath(s) {
    var c = s.ceph; var panel = $('ceph-data-panel');
    if (!c || !c.status) { panel.hidden = true; return; }
    panel.hidden = false;
    var bounds = c.latencyBucketsMs || [], n = bounds.length + 1, dash = '<td class="num muted" title="the OSD did not answer">—</td>';
    var totals = { w: 0, wb: 0, r: 0, rb: 0 };
    $('ceph-data-osds').tBodies[0].innerHTML = c.osds.map(function (o) {
      var st = o.stats, state = o.up ? 'up' : 'down';
      var head = '<tr data-osd="' + o.id + '" data-state="' + state + '"><td><b>osd.' + o.id + '</b></td><td class="state"><span class="badge ' + state + '">' + state + '</span></td>';
      var pgs = o.pgs === null || o.pgs === undefined ? dash : '<td class="num">' + o.pgs + ' (' + o.pgsActive + ')</td>';
      var used = o.usedBytes === null || o.usedBytes === undefined ? dash : '<td class="num">' + bytes(o.usedBytes) + '</td>';
      if (!st) return head + pgs + used + dash + dash + dash + dash + dash + dash + '</tr>';
      totals.w += st.writeOps; totals.wb += st.writeBytes; totals.r += st.readOps; totals.rb += st.readBytes;
      return head + pgs + used + '<td class="num" data-col="writes">' + st.writeOps + '</td><td class="num">' + bytes(st.writeBytes) + '</td><td class="num" data-col="reads">' + st.readOps + '</td><td class="num">' + bytes(st.readBytes) + '</td>' +
        '<td class="num">' + histQuantile(st.ackLatencyBuckets, bounds, 0.5) + ' / ' + histQuantile(st.ackLatencyBuckets, bounds, 0.99) + '</td>' +
        '<td class="num">' + histQuantile(st.commitLatencyBuckets, bounds, 0.5) + ' / ' + histQuantile(st.commitLatencyBuckets, bounds, 0.99) + '</td></tr>';
    }).join('');
    $('ceph-data-summary').textContent = totals.w + ' writes (' + bytes(totals.wb) + '), ' + totals.r + ' reads (' + bytes(totals.rb) + ') served since the OSDs started';
    renderLatencyChart('chart-ceph-ack', sumBuckets(c.osds, 'ackLatencyBuckets', n), bounds, 'acks');
    renderLatencyChart('chart-ceph-commit', sumBuckets(c.osds, 'commitLatencyBuckets', n), bounds, 'commits');
    var byState = c.status.pgs.byState || {};
    $('ceph-pg-states').tBodies[0].innerHTML = Object.keys(byState).sort().map(function (k) { return '<tr data-pg-state="' + esc(k) + '"><td>' + esc(k) + '</td><td class="num">' + byState[k] + '</td></tr>'; }).join('') || '<tr><td colspan="2" class="muted">no PGs</td></tr>';
    var a = c.pgActivity;
    $('ceph-pg-activity').textContent = a ? 'from the map; at their first OSD: ' + a.active + ' active, ' + a.inactive + ' activating or inactive' + (a.unreported > 0 ? ', ' + a.unreported + ' not reported' : '') : 'from the map';
    $('ceph-pools').tBodies[0].innerHTML = (c.pools || []).map(function (p) {
      return '<tr data-pool="' + esc(p.name) + '"><td><b>' + esc(p.name) + '</b></td><td>' + esc(p.replication) + '</td><td class="num">' + p.size + '</td><td class="num">' + p.pgNum + '</td><td class="num" data-col="objects">' + p.objects + '</td><td class="num" data-col="bytes" data-bytes="' + p.bytes + '">' + bytes(p.bytes) + '</td><td class="num">' + bytes(p.bytes * p.size) + '</td></tr>';
    }).join('') || '<tr><td colspan="7" class="muted">no pools</td></tr>';
  }

  // PG states over time and recovery progress (from the PG statistics the primaries report; ceph-watch.ts).
  function renderCephPgs(s) {
    var c = s.ceph; var panel = $('ceph-pgs-panel');
    if (!c || !c.pgHistory || c.pgHistory.length === 0) { panel.hidden = true; return; }
    panel.hidden = false;
    timeChart('chart-ceph-pgs', 'PG states over time', c.pgHistory, s.time, [['clean', '#1f8a4c'], ['degraded', '#b25e09'], ['inactive', '#c0262d'], ['inconsistent', '#8a54d6']], true);
    var rec = c.recovery, ps = c.pgStats, parts = [];
    if (rec && rec.objectsToRecover > 0) parts.push('recovery: ' + rec.objectsToRecover + ' objects (' + bytes(rec.bytesToRecover) + ') left' + (rec.objectsPerSec > 0 ? ', ' + rec.objectsPerSec.toFixed(1) + ' objects/s (' + bytes(rec.bytesPerSec) + '/s)' : ''));
    else parts.push('nothing to recover');
    if (ps && ps.inconsistentPgs > 0) parts.push(ps.inconsistentPgs + ' PGs inconsistent (' + ps.inconsistentObjects + ' objects): run troupe ceph pg repair');
    if (ps && c.status && ps.reported < c.status.pgs.total) parts.push((c.status.pgs.total - ps.reported) + ' PGs not reported yet');
    $('ceph-recovery').textContent = parts.join(' · ');
  }

  function renderCoord(s) {
    var c = s.coord; var panel = $('coord-panel');
    if (!c) { panel.hidden = true; return; }
    panel.hidden = false;
    var dash = function (v) { return v === null || v === undefined ? '–' : v; };
    $('coord-summary').textContent = (c.leader === null ? 'no leader' : 'leader ' + c.leader) + ' · ' + c.up + '/' + c.total + ' servers answering';
    $('coord-servers').tBodies[0].innerHTML = c.servers.map(function (r) {
      return '<tr><td>' + esc(r.name) + '</td><td>' + (r.role === 'unreachable' ? '<b>unreachable</b>' : esc(r.role)) + (r.error ? ' <small>' + esc(r.error) + '</small>' : '') + '</td><td class="num">' + (r.zxid === null ? '–' : '0x' + r.zxid.toString(16)) + '</td><td class="num">' + dash(r.lag) + '</td><td class="num">' + dash(r.sessions) + '</td><td class="num">' + dash(r.watches) + '</td><td class="num">' + dash(r.outstanding) + '</td><td class="num">' + dash(r.connections) + '</td><td class="num">' + dash(r.znodes) + '</td></tr>';
    }).join('');
  }

  function render(s) {
    lastSnapshot = Date.now();
    renderCeph(s); renderCephDataPath(s); renderCephPgs(s); renderCoord(s);
    renderHealth(s); renderTotals(s); renderServers(s); renderDiskChart(s); renderBacklogChart(s); renderEvents(s); renderRuntime(s);
    document.body.setAttribute('data-updated', String(s.time));
  }

  function setLive(on, text) { $('live-dot').className = on ? 'dot on' : 'dot'; $('live-text').textContent = text; }

  var pollTimer = null;
  function poll() {
    fetch('/api/status', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (s) { render(s); setLive(true, 'polling · ' + clock(s.time)); })
      .catch(function () { setLive(false, 'disconnected'); })
      .finally(function () { pollTimer = setTimeout(poll, 2000); });
  }

  function stream() {
    if (!window.EventSource) { poll(); return; }
    var es = new EventSource('/events');
    es.onmessage = function (m) { var s = JSON.parse(m.data); render(s); setLive(true, 'live · ' + clock(s.time)); };
    es.onerror = function () {
      setLive(false, 'reconnecting…');
      // The browser retries on its own; if the stream stays down, poll instead.
      if (es.readyState === 2 && pollTimer === null) poll();
    };
  }

  setInterval(function () { if (lastSnapshot > 0 && Date.now() - lastSnapshot > 5000) setLive(false, 'stale: no update for ' + Math.round((Date.now() - lastSnapshot) / 1000) + ' s'); }, 1000);
  fetch('/api/status', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(render).catch(function () { /* the stream will retry */ });
  stream();
})();
</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
