// Reprise web UI: request builds, watch them live or replayed, see what the cache saves.
// Plain JavaScript over the public API (/api/v1) and the build streams; the token stays in
// sessionStorage for this browser session.
'use strict';

const TOKEN_KEY = 'reprise.token';
const view = document.getElementById('view');
let cleanup = () => {};

// --- API ---

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: 'Bearer ' + token() }, options.headers || {});
  if (options.body) {
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch('/api/v1' + path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    route();
    throw new Error('sign in again');
  }
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : null;
  if (!response.ok) {
    throw new Error(body?.detail || response.status + ' ' + response.statusText);
  }
  return body;
}

// --- routing ---

function show(templateId) {
  cleanup();
  cleanup = () => {};
  view.replaceChildren(document.getElementById(templateId).content.cloneNode(true));
}

async function route() {
  if (!token()) {
    return login();
  }
  const hash = location.hash || '#/';
  const build = hash.match(/^#\/builds\/([0-9a-f-]{36})$/);
  try {
    if (build) {
      await buildPage(build[1]);
    } else if (hash.startsWith('#/builds')) {
      await buildsPage();
    } else if (hash === '#/admin') {
      await adminPage();
    } else {
      newBuildPage();
    }
  } catch (e) {
    view.insertAdjacentHTML('beforeend', '<p class="error"></p>');
    view.lastElementChild.textContent = e.message;
  }
}

window.addEventListener('hashchange', route);

function login() {
  show('login');
  document.getElementById('who').textContent = '';
  document.getElementById('login-form').addEventListener('submit', async event => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim());
    try {
      await whoami();
      route();
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      document.getElementById('login-error').textContent = 'That token was not accepted: ' + e.message;
    }
  });
}

async function whoami() {
  const me = await api('/whoami');
  document.getElementById('who').textContent = me.tenantName + ' · ' + me.tokenName + ' (' + me.scope + ')';
}

// --- new build ---

function newBuildPage() {
  show('new-build');
  const form = document.getElementById('build-form');
  const last = JSON.parse(sessionStorage.getItem('reprise.last-request') || 'null');
  if (last) {
    for (const field of ['repository', 'ref', 'tool', 'command']) {
      if (last[field]) {
        document.getElementById(field).value = last[field];
      }
    }
  }
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const request = {
      repository: value('repository'), ref: value('ref') || 'HEAD', tool: value('tool'),
      command: value('command') || undefined, fresh: document.getElementById('fresh').checked
    };
    try {
      await submit(request);
    } catch (e) {
      document.getElementById('build-error').textContent = e.message;
    }
  });
}

async function submit(request) {
  sessionStorage.setItem('reprise.last-request', JSON.stringify(request));
  const build = await api('/builds', { method: 'POST', body: JSON.stringify(request) });
  sessionStorage.setItem('reprise.request.' + build.buildId, JSON.stringify(request));
  location.hash = '#/builds/' + build.buildId;
}

function value(id) {
  return document.getElementById(id).value.trim();
}

// --- one build: live or replayed ---

async function buildPage(id) {
  show('build-page');
  // A hit's age and label come with it (as they were when it was served), from any browser.
  const build = await api('/builds/' + id);
  const term = new Terminal({ convertEol: true, fontSize: 13, scrollback: 10000, cursorBlink: false, disableStdin: true,
    theme: { background: '#111418' } });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById('terminal'));
  fit.fit();
  const onResize = () => fit.fit();
  window.addEventListener('resize', onResize);
  let socket = null;
  cleanup = () => {
    window.removeEventListener('resize', onResize);
    socket?.close();
    term.dispose();
  };

  document.getElementById('title').textContent = build.repository + ' @ ' + (build.commit || build.ref).slice(0, 12);
  const mode = document.getElementById('mode');
  mode.textContent = build.cached ? 'Cached · ' + (build.label || 'Cached') : 'Live';
  mode.className = 'badge ' + (build.cached ? 'cached' : 'live');
  mode.dataset.mode = build.cached ? 'cached' : 'live';
  facts(build);
  stale(build);
  const steps = [];
  let speed = build.cached ? 1 : null;

  const connect = step => {
    socket?.close();
    term.reset();
    steps.length = 0;
    setStatus(build.cached ? 'REPLAYING' : build.status);
    let url = build.streamUrl;
    if (build.cached) {
      url += (url.includes('?') ? '&' : '?') + 'speed=' + speed + (step ? '&step=' + encodeURIComponent(step) : '');
    }
    socket = new WebSocket(url);
    socket.onmessage = message => render(JSON.parse(message.data));
    socket.onclose = async close => {
      if (close.code !== 1000) {
        term.writeln('\x1b[31m[stream closed: ' + close.code + ' ' + close.reason + ']\x1b[0m');
      }
      if (!build.cached) {
        facts(await api('/builds/' + id));
      }
    };
  };

  // The dependency cache's line: what was restored or saved, and where a restored entry came from.
  const dependencyLine = data => {
    const size = data.bytes ? ' · ' + (data.bytes / 1048576).toFixed(1) + ' MB in ' + data.millis + ' ms' : '';
    const from = data.builtFrom ? ' · built from ' + data.builtFrom : '';
    switch (data.result) {
      case 'hit': return 'dependencies restored (' + (data.paths || []).join(', ') + ')' + size + from;
      case 'partial': return 'dependencies partly restored from the newest entry of this repository and toolchain' + size + from;
      case 'miss': return 'dependency cache miss: the build downloads its dependencies';
      case 'bypassed': return 'dependency cache bypassed (fresh build)';
      case 'saved': return 'dependencies saved for the next build' + size;
      default: return 'dependency cache unavailable (' + (data.detail || data.result) + '): the build downloads its dependencies';
    }
  };

  const render = event => {
    const data = event.data || {};
    switch (event.type) {
      case 'dev.reprise.build.started.v1':
        term.writeln('\x1b[2mrunner ' + data.runnerId + ' · ' + data.repository + ' @ ' + data.commitSha + '\x1b[0m');
        break;
      case 'dev.reprise.build.step-started.v1':
        steps.push(data.name);
        term.writeln('\x1b[1;36m==> step ' + data.step + ': ' + data.name + '\x1b[0m');
        renderSteps();
        break;
      case 'dev.reprise.build.step-cache.v1':
        if (data.result === 'hit') {
          term.writeln('\x1b[1;35m    task cache hit (' + data.source + '): outputs restored, replaying the step\'s log'
            + (data.savedMs ? ' · saved ' + seconds(data.savedMs) : '') + '\x1b[0m');
        }
        break;
      case 'dev.reprise.build.dependency-cache.v1':
        term.writeln('\x1b[1;34m    ' + dependencyLine(data) + '\x1b[0m');
        break;
      case 'dev.reprise.build.output.v1':
        term.write(data.stream === 'STDERR' ? '\x1b[33m' + data.chunk + '\x1b[0m' : data.chunk);
        break;
      case 'dev.reprise.build.completed.v1':
        term.writeln((data.status === 'SUCCESS' ? '\x1b[1;32m' : '\x1b[1;31m') + '==> ' + data.status
          + (data.exitCode != null ? ' (exit ' + data.exitCode + ')' : '') + ' in ' + seconds(data.durationMs)
          + (data.reason ? ': ' + data.reason : '') + '\x1b[0m');
        setStatus(data.status, data.durationMs);
        break;
    }
  };

  const renderSteps = () => {
    const box = document.getElementById('steps');
    box.replaceChildren();
    if (!build.cached || steps.length === 0) {
      return;
    }
    box.append('Start at: ');
    for (const name of steps) {
      const button = document.createElement('button');
      button.textContent = name;
      button.dataset.step = name;
      button.addEventListener('click', () => connect(name));
      box.append(button);
    }
  };

  document.getElementById('speed-controls').hidden = !build.cached;
  for (const button of document.querySelectorAll('#speed-controls button')) {
    button.addEventListener('click', () => {
      speed = Number(button.dataset.speed);
      document.querySelectorAll('#speed-controls button').forEach(b => b.classList.toggle('on', b === button));
      connect(null);
    });
  }
  document.getElementById('speed-1').classList.toggle('on', build.cached);

  document.getElementById('force-fresh').addEventListener('click', async () => {
    const original = JSON.parse(sessionStorage.getItem('reprise.request.' + id) || 'null')
      || { repository: build.repository, ref: build.ref, tool: build.tool, command: build.command || undefined };
    await submit(Object.assign({}, original, { fresh: true }));
  });

  if (build.cached) {
    const saved = document.getElementById('saved');
    const stats = await api('/stats?hours=1').catch(() => null);
    const cost = stats?.costModel;
    saved.hidden = false;
    saved.textContent = 'This replay saved a ' + seconds(build.durationMs) + ' build'
      + (cost ? ' and about ' + money(cost.perBuild + cost.perComputeSecond * build.durationMs / 1000, cost.currency) : '')
      + (build.ageSeconds != null ? ' (recorded ' + age(build.ageSeconds) + ' ago).' : '.');
  }
  connect(null);
}

function facts(build) {
  const parts = [build.tool + (build.command ? ': ' + build.command : ''), 'ref ' + build.ref, 'key ' + build.cacheKey.slice(0, 12)];
  if (build.durationMs != null) {
    parts.push(seconds(build.durationMs));
  }
  if (build.reason) {
    parts.push(build.reason);
  }
  document.getElementById('facts').textContent = parts.join(' · ');
}

// A stale hit (an old recording many read) is served at once while a live build refreshes it: say so.
function stale(build) {
  const el = document.getElementById('stale');
  el.hidden = !build.stale;
  el.replaceChildren();
  if (!build.stale) {
    return;
  }
  el.append('Cached ' + age(build.ageSeconds ?? 0) + ' ago — ');
  if (build.refreshBuildId) {
    const link = document.createElement('a');
    link.id = 'refresh-link';
    link.href = '#/builds/' + build.refreshBuildId;
    link.textContent = 'refreshing';
    el.append(link);
  } else {
    el.append('a refresh could not be queued; the next request tries again');
  }
}

function setStatus(status, durationMs) {
  const el = document.getElementById('status');
  if (!el) {
    return;
  }
  el.textContent = status + (durationMs != null ? ' · ' + seconds(durationMs) : '');
  el.dataset.status = status;
  el.className = 'status ' + status.toLowerCase();
}

// --- builds list ---

async function buildsPage() {
  show('builds-page');
  const load = async () => {
    const params = new URLSearchParams({ size: '50' });
    if (value('filter-repository')) {
      params.set('repository', value('filter-repository'));
    }
    if (value('filter-status')) {
      params.set('status', value('filter-status'));
    }
    const builds = await api('/builds?' + params);
    const body = document.querySelector('#builds tbody');
    body.replaceChildren(...builds.map(b => {
      const row = document.createElement('tr');
      const cells = [new Date(b.requestedAt).toLocaleString(), b.repository, b.ref, b.tool, b.status,
        b.cached ? 'cached' : '', b.durationMs != null ? seconds(b.durationMs) : ''];
      for (const text of cells) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      row.addEventListener('click', () => { location.hash = '#/builds/' + b.buildId; });
      return row;
    }));
  };
  document.getElementById('filter').addEventListener('submit', event => {
    event.preventDefault();
    load().catch(e => alert(e.message));
  });
  await load();
}

// --- cache admin ---

async function adminPage() {
  show('admin-page');
  const stats = await api('/stats?hours=24');
  const kpis = [
    ['Hit rate', (stats.hitRate * 100).toFixed(1) + ' %'], ['Hits', stats.hits], ['Misses', stats.misses],
    ['Time saved', seconds(stats.timeSavedSeconds * 1000)], ['Money saved', money(stats.moneySaved, stats.costModel.currency)],
    ['Recordings', stats.recordings], ['Stored', bytes(stats.storedBytes)], ['Replay errors', stats.replayErrors],
    ['Evictions', stats.evictions]
  ];
  document.getElementById('kpis').replaceChildren(...kpis.map(([label, v]) => {
    const box = document.createElement('div');
    box.innerHTML = '<span></span><strong></strong>';
    box.firstChild.textContent = label;
    box.lastChild.textContent = v;
    return box;
  }));
  const hours = stats.series.map(h => new Date(h.hour).getTime() / 1000);
  const charts = [
    chart('hit-rate-chart', hours, [['hit rate %', stats.series.map(h => h.hits + h.misses ? h.hitRate * 100 : null), '#2f9e44']]),
    chart('traffic-chart', hours, [['hits', stats.series.map(h => h.hits), '#2f9e44'], ['misses', stats.series.map(h => h.misses), '#e8590c']]),
    chart('health-chart', hours, [['replay errors', stats.series.map(h => h.replayErrors), '#c92a2a'],
      ['evictions', stats.series.map(h => h.evictions), '#5c7cfa']])
  ];
  document.getElementById('hit-rate-chart').dataset.points = String(stats.series.filter(h => h.hits + h.misses > 0).length);
  bars('storage', [['recordings (replay-service)', stats.storedBytes, bytes(stats.storedBytes)]]);
  bars('popular', stats.mostReplayed.map(p => [p.repository.replace(/^.*\//, '') + ' · ' + p.cacheKey.slice(0, 8), p.reads,
    p.reads + ' replays' + (p.lastAccessAt ? ' · last ' + age(Math.max(0, Math.round((Date.now() - new Date(p.lastAccessAt)) / 1000))) + ' ago' : '')]));
  cleanup = () => charts.forEach(c => c.destroy());
}

function chart(id, xs, series) {
  const el = document.getElementById(id);
  return new uPlot({
    width: Math.max(320, el.clientWidth), height: 200,
    series: [{}].concat(series.map(([label, , stroke]) => ({ label, stroke, width: 2, spanGaps: true, points: { show: true } }))),
    axes: [{}, {}], scales: { x: { time: true } }
  }, [xs].concat(series.map(s => s[1])), el);
}

function bars(id, items) {
  const max = Math.max(1, ...items.map(i => i[1]));
  document.getElementById(id).replaceChildren(...(items.length ? items : [['nothing yet', 0, '']]).map(([label, n, text]) => {
    const row = document.createElement('div');
    row.className = 'bar';
    row.innerHTML = '<span class="label"></span><span class="fill"></span><span class="value"></span>';
    row.children[0].textContent = label;
    row.children[1].style.width = (100 * n / max) + '%';
    row.children[2].textContent = text;
    return row;
  }));
}

// --- formatting ---

function seconds(ms) {
  return ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(1) + ' s';
}

function money(amount, currency) {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 4 }).format(amount);
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : n) + ' ' + units[i];
}

function age(s) {
  return s < 60 ? s + ' s' : s < 3600 ? Math.round(s / 60) + ' min' : s < 86400 ? Math.round(s / 3600) + ' h' : Math.round(s / 86400) + ' days';
}

if (token()) {
  whoami().catch(() => {});
}
route();
