// test/support/fake_dom.ts — just enough DOM to run the inspect page's viewer script in Node.
//
// There is no browser on the test machines, so test/inspect.test.ts runs cli/inspect_viewer.ts's
// script (unchanged) in a vm context against these stubs: elements with children, attributes,
// classes, style, textContent and listeners; a document that creates them and finds them by id;
// window and location with a hash. It implements only what the viewer's header says it uses, so
// a viewer change that reaches for more fails here loudly (TypeError), not silently in a browser.

import { runInNewContext } from 'node:vm';

type Listener = (ev: { target: FakeElement; key?: string }) => void;

export class FakeElement {
  readonly children: FakeElement[] = [];
  readonly attrs = new Map<string, string>();
  readonly style: Record<string, string> = {};
  readonly listeners = new Map<string, Listener[]>();
  parentNode: FakeElement | null = null;
  className = '';
  open = false;
  value = '';
  private text = '';
  readonly nodeType = 1;

  constructor(
    readonly tagName: string,
    readonly ns: string | null = null,
  ) {}

  readonly classList = {
    add: (c: string) => this.setClass(c, true),
    remove: (c: string) => this.setClass(c, false),
    toggle: (c: string, on?: boolean) => this.setClass(c, on ?? !this.classes().includes(c)),
    contains: (c: string) => this.classes().includes(c),
  };

  private classes(): string[] {
    return (this.attrs.get('class') ?? this.className).split(/\s+/).filter(Boolean);
  }

  private setClass(c: string, on: boolean): boolean {
    const set = new Set(this.classes());
    if (on) set.add(c);
    else set.delete(c);
    if (this.attrs.has('class')) this.attrs.set('class', [...set].join(' '));
    else this.className = [...set].join(' ');
    return on;
  }

  get firstChild(): FakeElement | null {
    return this.children[0] ?? null;
  }

  get nextSibling(): FakeElement | null {
    const sib = this.parentNode?.children;
    return sib ? (sib[sib.indexOf(this) + 1] ?? null) : null;
  }

  get textContent(): string {
    return this.text + this.children.map((c) => c.textContent).join('');
  }

  set textContent(t: string) {
    this.children.length = 0;
    this.text = t;
  }

  appendChild(c: FakeElement): FakeElement {
    c.parentNode = this;
    this.children.push(c);
    return c;
  }

  removeChild(c: FakeElement): FakeElement {
    const i = this.children.indexOf(c);
    if (i < 0) throw new Error('removeChild: not a child');
    this.children.splice(i, 1);
    c.parentNode = null;
    return c;
  }

  setAttribute(k: string, v: string): void {
    this.attrs.set(k, String(v));
  }

  getAttribute(k: string): string | null {
    return this.attrs.get(k) ?? null;
  }

  addEventListener(type: string, f: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), f]);
  }

  dispatch(type: string, ev: { target?: FakeElement; key?: string } = {}): void {
    for (const f of this.listeners.get(type) ?? []) f({ target: ev.target ?? this, key: ev.key });
  }

  /** Every descendant (depth first), this element included. */
  all(): FakeElement[] {
    return [this, ...this.children.flatMap((c) => c.all())];
  }

  find(pred: (e: FakeElement) => boolean): FakeElement[] {
    return this.all().filter(pred);
  }
}

export interface FakePage {
  byId: Map<string, FakeElement>;
  window: FakeElement & { wfInspect?: { select(pc: number): boolean; filter(q: string): number } };
  location: { hash: string };
}

/**
 * Runs `script` with the page's elements: `wf-data` holding `json`, `list` holding one <li
 * data-pc> per block, `count`, `filter` and `block`. Timers run at once; location.hash is
 * normalised to start with '#', as browsers do.
 */
export function runViewer(script: string, json: string, blocks: number, hash = ''): FakePage {
  const byId = new Map<string, FakeElement>();
  for (const id of ['wf-data', 'list', 'count', 'filter', 'block']) byId.set(id, new FakeElement(id === 'list' ? 'ol' : 'div'));
  byId.get('wf-data')!.textContent = json;
  for (let pc = 0; pc < blocks; pc++) {
    const li = new FakeElement('li');
    li.setAttribute('data-pc', String(pc));
    byId.get('list')!.appendChild(li);
  }
  const document = {
    getElementById: (id: string) => byId.get(id) ?? null,
    createElement: (tag: string) => new FakeElement(tag),
    createElementNS: (ns: string, tag: string) => new FakeElement(tag, ns),
  };
  const window = new FakeElement('window') as FakePage['window'];
  let current = hash;
  const location = {
    get hash() {
      return current;
    },
    set hash(h: string) {
      current = h === '' || h.startsWith('#') ? h : `#${h}`; // as a browser normalises it
    },
  };
  const setTimeout = (f: () => void) => (f(), 0);
  runInNewContext(script, { document, window, location, setTimeout, clearTimeout: () => undefined });
  return { byId, window, location };
}

export interface FakeTracePage {
  byId: Map<string, FakeElement>;
  window: FakeElement & { wfTrace?: { show(i: number): void; indexOfStep(n: number): number; current(): { step: number } } };
  location: { hash: string };
  /** Sends a keydown to the document (what the page's keyboard controls listen to). */
  key(k: string): void;
}

/**
 * Runs the `run --trace-html` viewer (cli/trace_viewer.ts) with the page's elements: `wf-trace`
 * holding `json`, and the controls, list and step section of cli/trace_html.ts.
 */
export function runTraceViewer(script: string, json: string, hash = ''): FakeTracePage {
  const byId = new Map<string, FakeElement>();
  for (const id of ['wf-trace', 'slider', 'first', 'prev', 'next', 'last', 'goto', 'pos', 'page', 'list', 'visits', 'step']) byId.set(id, new FakeElement(id === 'list' || id === 'visits' ? 'ol' : 'div'));
  byId.get('wf-trace')!.textContent = json;
  const doc = new FakeElement('document');
  const document = Object.assign(doc, {
    getElementById: (id: string) => byId.get(id) ?? null,
    createElement: (tag: string) => new FakeElement(tag),
  });
  const window = new FakeElement('window') as FakeTracePage['window'];
  let current = hash;
  const location = {
    get hash() {
      return current;
    },
  };
  const history = { replaceState: (_s: unknown, _t: string, h: string) => (current = h) };
  runInNewContext(script, { document, window, location, history });
  const key = (k: string) => {
    for (const f of doc.listeners.get('keydown') ?? []) (f as unknown as (ev: object) => void)({ key: k, target: doc, preventDefault: () => undefined });
  };
  return { byId, window, location, key };
}
