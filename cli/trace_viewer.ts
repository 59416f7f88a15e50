// cli/trace_viewer.ts — the script of the `run --trace-html` page (browser JavaScript, as a string).
//
// It reads the page's JSON (cli/trace_html.ts TracePageData) and shows one step at a time: the
// step list is a window of 100 kept steps around the current one (gaps where steps were not
// kept are marked), the slider and buttons move over the kept steps, keys: ← → (one step),
// PageUp / PageDown (100), Home / End, g (go to a step number); #stepN in the address selects a
// step. Per step: block, live values, next pc / trap / output, memory writes, and per lookup head
// a strip of its attention weights over [pending | cache] rows (lit where the weight is nonzero;
// "one-hot" when a single row has weight exactly 1) with the rows it picked. Only textContent
// carries data into the page (no innerHTML). Plain ES2017 in one IIFE: no network, works from file://.

export const TRACE_VIEWER_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('wf-trace').textContent);
  var steps = data.steps;
  var PAGE = 100, STRIP = 64;
  var cur = 0;
  var slider = document.getElementById('slider');
  var list = document.getElementById('list');
  var page = document.getElementById('page');
  var root = document.getElementById('step');
  var posEl = document.getElementById('pos');
  var gotoEl = document.getElementById('goto');
  var byPos = {};
  steps.forEach(function (s) { if (s.pos) byPos[s.pos] = s.step; });

  function h(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function blockName(pc) {
    if (pc === data.halt) return 'halt';
    var b = data.blocks[pc];
    return b ? b.name : 'pc ' + pc;
  }
  function row(tr, cells, cls) {
    cells.forEach(function (c) {
      var td = h('td', cls, null);
      if (c && c.nodeType) td.appendChild(c); else td.textContent = String(c);
      tr.appendChild(td);
    });
    return tr;
  }
  function table(head, rows) {
    var t = h('table', 't');
    var tr = h('tr');
    head.forEach(function (x) { tr.appendChild(h('th', null, x)); });
    t.appendChild(tr);
    rows.forEach(function (r) { t.appendChild(row(h('tr'), r)); });
    return t;
  }
  function where(addr) {
    if (addr < 0) return 'never written (sink row)';
    if (addr < data.memBytes) return 'memory';
    if (data.frames) {
      var k = Math.floor((addr - data.frames.base) / data.frames.bytes);
      return 'call frame ' + k + ' +' + (addr - data.frames.base - k * data.frames.bytes);
    }
    return 'beyond memory';
  }
  function hex(n) { return '0x' + (n >>> 0).toString(16); }
  function ch(b) { return b >= 32 && b < 127 ? JSON.stringify(String.fromCharCode(b)) : ''; }
  function writtenAt(pos) {
    if (pos === 0) return 'before the run (data segment)';
    return byPos[pos] !== undefined ? 'step ' + byPos[pos] : 'position ' + pos;
  }

  function strip(read) {
    var s = h('span', 'strip');
    var n = Math.min(read.cols, STRIP);
    var lit = {}, pending;
    read.rows.forEach(function (r) {
      var col = r[0] === 'p' ? r[1] : read.pending + r[1];
      var cell = read.cols > STRIP ? Math.floor(col * STRIP / read.cols) : col;
      lit[cell] = Math.max(lit[cell] || 0, r[2]);
    });
    pending = read.pending > 0 ? Math.max(1, Math.round(read.pending * n / read.cols)) : 0;
    for (var i = 0; i < n; i++) {
      var c = h('i', lit[i] === 1 ? 'on' : lit[i] > 0 ? 'part' : i < pending ? 'p' : null);
      if (lit[i]) c.title = 'weight ' + lit[i];
      s.appendChild(c);
    }
    s.title = read.cols + ' rows' + (read.cols > STRIP ? ' (drawn in ' + STRIP + ' cells)' : '');
    return s;
  }

  function readsTable(s, b) {
    var t = h('table', 't');
    var tr = h('tr');
    ['layer.head', 'role', 'stage', 'address', 'weights over [pending | cache] rows', 'rows with weight > 0: row, weight, address, byte, written'].forEach(function (x) { tr.appendChild(h('th', null, x)); });
    t.appendChild(tr);
    (s.reads || []).forEach(function (r) {
      var role = b && b.heads[r.layer + '.' + r.head];
      var one = r.rows.length === 1 && r.rows[0][2] === 1 && !r.more;
      var sel = h('div');
      if (one) sel.appendChild(h('div', 'onehot', 'one-hot: weight 1 on 1 row, exactly 0 on the other ' + (r.cols - 1)));
      r.rows.forEach(function (x) {
        var src = x[0] === 'p' ? 'pending ' + x[1] + ' (this step)' : x[0] === 's' ? 'sink (cache row ' + x[1] + ')' : 'cache row ' + x[1];
        var what = x[0] === 's' ? 'never written: reads 0' : hex(x[3]) + ' = ' + x[4] + (ch(x[4]) ? ' ' + ch(x[4]) : '') + ', written ' + writtenAt(x[5]);
        sel.appendChild(h('div', 'mono', src + ': w=' + x[2] + ' · ' + what));
      });
      if (r.more) sel.appendChild(h('div', 'muted', r.more + ' rows with weight > 0 (first ' + r.rows.length + ' shown)'));
      var addr = h('span', 'mono', hex(r.addr) + ' (' + r.addr + ')');
      addr.title = where(r.addr);
      var stage = r.stage === 0 ? 'byte at address' : r.stage === 2 ? '2: byte at epoch ' + r.epoch : '1: newest epoch';
      row(tr = h('tr'), [r.layer + '.' + r.head, role ? role[0] : '', stage, addr, strip(r), sel]);
      t.appendChild(tr);
    });
    return t;
  }

  function detail(s) {
    clear(root);
    var b = data.blocks[s.pc];
    root.appendChild(h('h2', null, 'step ' + s.step + ' · pc ' + s.pc + ' · ' + s.block));
    var live = [];
    s.args.forEach(function (v, i) { live.push(['arg' + i, v, hex(v)]); });
    (s.globals || []).forEach(function (v, i) { live.push(['global ' + i, v, hex(v)]); });
    if (s.depth) live.push(['call depth', s.depth, '']);
    root.appendChild(h('div', 'muted', 'live values entering the block'));
    root.appendChild(live.length ? table(['value', 'i32', 'hex'], live) : h('div', 'muted', '(none)'));
    var next = s.trap ? 'trap (code ' + s.trap + ')' : s.next === undefined ? '' : s.next === data.halt ? 'halt (return)' : 'next: pc ' + s.next + ' ' + blockName(s.next);
    var outs = (s.out || []).map(function (b) { return b + ' ' + ch(b); });
    if (next) root.appendChild(h('p', null, next + (outs.length ? ' · output ' + (outs.length > 1 ? 'bytes ' : 'byte ') + outs.join(', ') : '')));
    if (s.writes && s.writes.length) {
      root.appendChild(h('h2', null, 'memory writes (' + s.writes.length + ')'));
      root.appendChild(table(['address', 'byte', 'char', 'where'], s.writes.map(function (w) { return [hex(w[0]) + ' (' + w[0] + ')', w[1], ch(w[1]), where(w[0])]; })));
    }
    if (s.reads && s.reads.length) {
      root.appendChild(h('h2', null, 'memory reads: lookup heads (' + s.reads.length + ')'));
      root.appendChild(readsTable(s, b));
    }
    if (b && b.ir) {
      root.appendChild(h('h2', null, 'IR of ' + b.name));
      var pre = h('pre', 'ir');
      var hl = {};
      (s.reads || []).forEach(function (r) { var x = b.heads[r.layer + '.' + r.head]; if (x) hl[x[1]] = true; });
      b.ir.forEach(function (line, i) { pre.appendChild(h('span', hl[i] ? 'hl' : null, line)); });
      root.appendChild(pre);
    }
  }

  function renderList() {
    clear(list);
    var p = Math.floor(cur / PAGE), from = p * PAGE, to = Math.min(steps.length, from + PAGE);
    page.textContent = 'kept steps ' + (from + 1) + '–' + to + ' of ' + steps.length + ' (page ' + (p + 1) + ' of ' + Math.max(1, Math.ceil(steps.length / PAGE)) + ')';
    for (var i = from; i < to; i++) {
      var s = steps[i];
      if (i > 0 && steps[i - 1].step + 1 < s.step) list.appendChild(h('li', 'gap', '… ' + (s.step - steps[i - 1].step - 1) + ' steps not kept'));
      var li = h('li', i === cur ? 'sel' : null, s.step + '  ' + s.block + '  [' + s.args.join(', ') + ']' + ((s.writes && s.writes.length) ? '  W' + s.writes.length : '') + ((s.reads && s.reads.length) ? '  R' + s.reads.length : ''));
      li.setAttribute('data-i', String(i));
      list.appendChild(li);
      if (i === cur && li.scrollIntoView) li.scrollIntoView({ block: 'nearest' });
    }
  }

  function show(i) {
    if (!steps.length) { root.textContent = 'no steps'; return; }
    cur = Math.max(0, Math.min(steps.length - 1, i));
    slider.value = String(cur);
    var s = steps[cur];
    posEl.textContent = 'step ' + s.step + ' of ' + data.total + (steps.length < data.total ? ' (kept ' + (cur + 1) + ' of ' + steps.length + ')' : '');
    gotoEl.value = String(s.step);
    renderList();
    detail(s);
    var hash = '#step' + s.step;
    if (location.hash !== hash && history.replaceState) history.replaceState(null, '', hash);
  }
  /** The kept step nearest to step number n. */
  function indexOfStep(n) {
    var lo = 0, hi = steps.length - 1;
    while (lo < hi) { var m = (lo + hi) >> 1; if (steps[m].step < n) lo = m + 1; else hi = m; }
    if (lo > 0 && Math.abs(steps[lo - 1].step - n) <= Math.abs(steps[lo].step - n)) lo--;
    return lo;
  }

  function visits() {
    var v = document.getElementById('visits');
    var pcs = [];
    data.visits.forEach(function (n, pc) { if (n) pcs.push(pc); });
    pcs.sort(function (a, b) { return data.visits[b] - data.visits[a] || a - b; });
    pcs.slice(0, 40).forEach(function (pc) {
      var li = h('li', null, data.visits[pc] + '×  ' + blockName(pc));
      li.title = 'jump to the next kept step in this block';
      li.addEventListener('click', function () {
        for (var k = 1; k <= steps.length; k++) { var j = (cur + k) % steps.length; if (steps[j].pc === pc) { show(j); return; } }
      });
      v.appendChild(li);
    });
  }

  slider.max = String(Math.max(0, steps.length - 1));
  slider.addEventListener('input', function () { show(+slider.value); });
  document.getElementById('first').addEventListener('click', function () { show(0); });
  document.getElementById('last').addEventListener('click', function () { show(steps.length - 1); });
  document.getElementById('prev').addEventListener('click', function () { show(cur - 1); });
  document.getElementById('next').addEventListener('click', function () { show(cur + 1); });
  gotoEl.addEventListener('change', function () { show(indexOfStep(+gotoEl.value)); });
  list.addEventListener('click', function (ev) { var i = ev.target.getAttribute && ev.target.getAttribute('data-i'); if (i !== null && i !== undefined) show(+i); });
  document.addEventListener('keydown', function (ev) {
    if (ev.target === gotoEl) return;
    var k = ev.key;
    if (k === 'ArrowRight' || k === 'ArrowDown') show(cur + 1);
    else if (k === 'ArrowLeft' || k === 'ArrowUp') show(cur - 1);
    else if (k === 'PageDown') show(cur + PAGE);
    else if (k === 'PageUp') show(cur - PAGE);
    else if (k === 'Home') show(0);
    else if (k === 'End') show(steps.length - 1);
    else if (k === 'g') { gotoEl.focus(); ev.preventDefault(); return; }
    else return;
    ev.preventDefault();
  });
  visits();
  var m0 = /^#step(\d+)$/.exec(location.hash);
  show(m0 ? indexOfStep(+m0[1]) : 0);
  window.wfTrace = { show: show, indexOfStep: indexOfStep, current: function () { return steps[cur]; } };
})();
`;
