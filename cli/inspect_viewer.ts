// cli/inspect_viewer.ts — the script of the `wasmformer inspect` page (browser JavaScript, as a string).
//
// It reads the page's JSON (cli/inspect_html.ts: {roles, colors, info}) and draws one block at a
// time, when it is picked from the list (click, Enter, or #pcN in the address): the slot chart
// (an SVG: x = residual slot, y = sublayer point from the embedding down to the readout, one bar
// per value over the points it occupies, coloured by role), the sublayer table (heads' and MLP
// nodes' roles, live slots, clears, and density grids drawn when their row is opened), and the
// IR text; clicking a value highlights its IR line and every value of that line, clicking a line
// highlights its values. The filter matches pc, block name and IR text. Only DOM calls a small
// stub can provide are used (createElement(NS), appendChild, removeChild, firstChild, setAttribute,
// getAttribute, textContent, classList, style.display, addEventListener), so test/inspect.test.ts
// runs this very script against such a stub. window.wfInspect = {select, filter} is its handle.
// Plain ES2017 in one IIFE: no modules, no network, works from file://.

export const VIEWER_SCRIPT = String.raw`(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var data = JSON.parse(document.getElementById('wf-data').textContent);
  var roles = data.roles, colors = data.colors, experts = data.info.experts;
  var list = document.getElementById('list');
  var count = document.getElementById('count');
  var input = document.getElementById('filter');
  var root = document.getElementById('block');
  var items = [];
  for (var c = list.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) items[+c.getAttribute('data-pc')] = c;

  function h(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function s(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function blockName(e) { return e.func + ':block' + e.block; }
  function pointName(p, L) {
    if (p < 0) return 'embedding';
    if (p >= 2 * L) return 'readout';
    return 'layer ' + (p >> 1) + (p % 2 ? ' MLP' : ' attention');
  }
  function shortPoint(p, L) {
    if (p < 0) return 'embed';
    if (p >= 2 * L) return 'readout';
    return 'L' + (p >> 1) + (p % 2 ? ' mlp' : ' attn');
  }

  var MAP_AXES = {
    q: 'slots → heads × features', pending: 'slots → pending rows × features', out: 'heads × features → slots',
    up: 'slots → hidden units', down: 'hidden units → slots', next: 'slots → next token', rows: 'slots → memory rows × features'
  };

  function legend(e) {
    var used = {};
    e.values.forEach(function (v) { used[v[1]] = true; });
    var d = h('div', 'legend');
    roles.forEach(function (r, i) {
      if (!used[i]) return;
      var sp = h('span');
      var sw = h('i');
      sw.style.background = colors[i];
      sp.appendChild(sw);
      sp.appendChild(h('b', null, r));
      d.appendChild(sp);
    });
    return d;
  }

  function highlight(ctx, line, only) {
    ctx.lines.forEach(function (l, i) { l.classList.toggle('hl', i === line); });
    ctx.rects.forEach(function (r, i) {
      var v = ctx.e.values[i];
      var on = line >= 0 ? v[5] === line : i === only;
      r.classList.toggle('hl', on);
      r.classList.toggle('dim', !on);
    });
  }

  function chart(e, ctx) {
    var L = e.layers, rows = 2 * L + 2;
    var cw = Math.max(3, Math.min(14, Math.floor(900 / e.dModel)));
    var rh = 14, left = 64, top = 14;
    var W = left + e.dModel * cw + 4, H = top + rows * rh + 4;
    var g = s('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    var cap = s('title', {});
    cap.textContent = 'residual slots of ' + blockName(e) + ' by sublayer';
    g.appendChild(cap);
    for (var r = 0; r < rows; r++) {
      var p = r - 1;
      if (p >= 0 && p < 2 * L && p % 2 === 0) g.appendChild(s('rect', { x: left, y: top + r * rh, width: e.dModel * cw, height: rh, fill: '#f2f4fb' }));
      var t = s('text', { x: 2, y: top + r * rh + rh - 3 });
      t.textContent = shortPoint(p, L);
      g.appendChild(t);
    }
    var step = Math.max(1, Math.ceil(40 / cw / 10) * 10);
    for (var k = 0; k < e.dModel; k += step) {
      var tx = s('text', { x: left + k * cw, y: 10 });
      tx.textContent = String(k);
      g.appendChild(tx);
    }
    e.values.forEach(function (v, i) {
      var rect = s('rect', { x: left + v[2] * cw, y: top + (v[3] + 1) * rh, width: cw, height: (v[4] - v[3] + 1) * rh, fill: colors[v[1]], 'class': 'v' });
      var tip = s('title', {});
      tip.textContent = v[0] + ' (' + roles[v[1]] + '): slot ' + v[2] + ', ' + pointName(v[3], L) + ' to ' + pointName(v[4], L) + (v[5] >= 0 ? '\n' + e.ir[v[5]].trim() : '');
      rect.appendChild(tip);
      rect.addEventListener('click', function () { highlight(ctx, v[5], i); });
      ctx.rects.push(rect);
      g.appendChild(rect);
    });
    var wrap = h('div', 'scroll');
    wrap.appendChild(g);
    return wrap;
  }

  // format/inspect.ts decodeCells: '1'-'f' a level, 'g'-'z' a run of 1-20 empty cells
  function decodeCells(text) {
    var out = [];
    for (var i = 0; i < text.length; i++) {
      var code = text.charCodeAt(i);
      if (code >= 0x67) for (var k = code - 0x66; k > 0; k--) out.push(0);
      else out.push(parseInt(text.charAt(i), 16));
    }
    return out;
  }

  function heatmap(m) {
    var rows = m[5], cols = m[6], cells = decodeCells(m[7]);
    var cs = Math.max(2, Math.floor(96 / Math.max(rows, cols)));
    var fig = h('figure');
    fig.style.display = 'inline-block';
    fig.style.margin = '0 8px 4px 0';
    var g = s('svg', { width: cols * cs, height: rows * cs, viewBox: '0 0 ' + cols * cs + ' ' + rows * cs });
    for (var i = 0; i < rows; i++) {
      for (var j = 0; j < cols; j++) {
        var lv = cells[i * cols + j];
        if (lv > 0) g.appendChild(s('rect', { x: j * cs, y: i * cs, width: cs, height: cs, fill: '#08306b', 'fill-opacity': (0.12 + 0.88 * lv / 15).toFixed(2) }));
      }
    }
    fig.appendChild(g);
    fig.appendChild(h('figcaption', 'muted', m[1] + ' ' + m[2] + '×' + m[3] + ', ' + m[4] + ' nonzeros (' + MAP_AXES[m[1]] + ')'));
    return fig;
  }

  function groupBy(arr) {
    var out = {};
    arr.forEach(function (x) { (out[x[0]] = out[x[0]] || []).push(x); });
    return out;
  }

  function sublayers(e) {
    var L = e.layers, nodes = groupBy(e.nodes), maps = groupBy(e.maps);
    var t = h('table', 'sub');
    var head = h('tr');
    ['sublayer', 'gadgets (heads / MLP nodes)', 'live slots', 'maps (open to draw)'].forEach(function (x) { head.appendChild(h('th', null, x)); });
    t.appendChild(head);
    for (var p = 0; p <= 2 * L; p++) {
      var ns = nodes[p] || [], ms = maps[p] || [];
      var clears = 0, live = 0;
      e.values.forEach(function (v) { if (v[3] <= p && p <= v[4]) live++; if (v[4] === p && p < 2 * L) clears++; });
      if (!ns.length && !clears && !ms.length) continue;
      var tr = h('tr');
      tr.appendChild(h('td', null, pointName(p, L)));
      var td = h('td');
      ns.forEach(function (n) {
        td.appendChild(h('div', null, (n[1] === 'attn' ? 'head ' + n[2] + ' [' + n[3] + ' features]' : n[2] + ' [' + n[3] + ' units]')));
      });
      if (clears) td.appendChild(h('div', 'muted', 'clear ' + clears + ' slot' + (clears === 1 ? '' : 's') + ' [' + 2 * clears + ' units]'));
      tr.appendChild(td);
      tr.appendChild(h('td', null, live));
      var mt = h('td', 'maps');
      if (ms.length) mt.appendChild(mapDetails(ms));
      tr.appendChild(mt);
      t.appendChild(tr);
    }
    return t;
  }

  function mapDetails(ms) {
    var det = h('details');
    det.appendChild(h('summary', null, ms.map(function (m) { return m[1] + ' ' + m[4] + ' nz (' + (100 * m[4] / (m[2] * m[3])).toPrecision(2) + '%)'; }).join(', ')));
    var drawn = false;
    det.addEventListener('toggle', function () {
      if (!det.open || drawn) return;
      drawn = true;
      ms.forEach(function (m) { det.appendChild(heatmap(m)); });
    });
    return det;
  }

  // '   ; at L0 mlp, L1 attn; 12 values in 9 slots' for the gadgets and values a line made
  function lineNote(e, i) {
    var points = [], slots = {}, nv = 0, ns = 0;
    e.nodes.forEach(function (n) { if (n[4] === i && points.indexOf(n[0]) < 0) points.push(n[0]); });
    e.values.forEach(function (v) { if (v[5] !== i) return; nv++; if (!slots[v[2]]) { slots[v[2]] = true; ns++; } });
    if (!points.length && !nv) return '';
    points.sort(function (a, b) { return a - b; });
    var at = points.length ? 'at ' + points.map(function (p) { return shortPoint(p, e.layers); }).join(', ') : '';
    var vals = nv ? nv + ' value' + (nv === 1 ? '' : 's') + ' in ' + ns + ' slot' + (ns === 1 ? '' : 's') : '';
    return '   ; ' + [at, vals].filter(Boolean).join('; ');
  }

  function irText(e, ctx) {
    var pre = h('pre', 'ir');
    e.ir.forEach(function (line, i) {
      var sp = h('span', null, line);
      var note = lineNote(e, i);
      if (note) sp.appendChild(h('span', 'n', note));
      sp.addEventListener('click', function () { highlight(ctx, i, -1); });
      ctx.lines.push(sp);
      pre.appendChild(sp);
    });
    return pre;
  }

  function renderBlock(e) {
    clear(root);
    var heads = 0, units = 0;
    e.nodes.forEach(function (n) { if (n[1] === 'attn') heads++; else units += n[3]; });
    root.appendChild(h('h2', null, blockName(e) + '  (pc ' + e.pc + ')'));
    root.appendChild(h('p', 'muted', e.layers + ' layers (critical path ' + e.criticalPath + '), ' + e.dModel + ' residual slots (maxLive ' + e.maxLive + '), ' +
      e.values.length + ' values, ' + heads + ' heads, ' + units + ' MLP units'));
    var ctx = { e: e, rects: [], lines: [] };
    root.appendChild(h('h3', null, 'Residual slots by sublayer'));
    root.appendChild(legend(e));
    root.appendChild(chart(e, ctx));
    root.appendChild(h('h3', null, 'Sublayers'));
    root.appendChild(sublayers(e));
    root.appendChild(h('h3', null, 'IR'));
    root.appendChild(irText(e, ctx));
  }

  var current = -1;
  function select(pc) {
    if (!(pc >= 0 && pc < experts.length)) return false;
    if (current >= 0 && items[current]) items[current].classList.remove('sel');
    current = pc;
    if (items[pc]) items[pc].classList.add('sel');
    renderBlock(experts[pc]);
    if (location.hash !== '#pc' + pc) location.hash = 'pc' + pc;
    return true;
  }

  var searchText = null;
  function filter(q) {
    if (!searchText) searchText = experts.map(function (e) { return (e.pc + ' ' + blockName(e) + '\n' + e.ir.join('\n')).toLowerCase(); });
    q = String(q).trim().toLowerCase();
    var shown = 0;
    items.forEach(function (li, pc) {
      var ok = !q || searchText[pc].indexOf(q) >= 0;
      li.style.display = ok ? '' : 'none';
      if (ok) shown++;
    });
    count.textContent = shown + ' of ' + experts.length + ' blocks';
    return shown;
  }

  function pcOf(target) {
    for (var t = target; t && t !== list; t = t.parentNode) if (t.getAttribute && t.getAttribute('data-pc') !== null) return +t.getAttribute('data-pc');
    return -1;
  }
  list.addEventListener('click', function (ev) { select(pcOf(ev.target)); });
  list.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') select(pcOf(ev.target)); });
  var timer = null;
  input.addEventListener('input', function () {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(function () { timer = null; filter(input.value); }, 120);
  });
  window.addEventListener('hashchange', function () {
    var m = /^#pc(\d+)$/.exec(location.hash);
    if (m && +m[1] !== current) select(+m[1]);
  });
  window.wfInspect = { select: select, filter: filter };
  var m0 = /^#pc(\d+)$/.exec(location.hash);
  select(m0 ? +m0[1] : 0);
})();
`;
