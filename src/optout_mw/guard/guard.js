// optout-mw run-time guard: the first script of an opted-out visitor's page. It stops page
// code from contacting the hosts the server's rules name, on every path a script has to
// the network, and reports what it stopped once per page.
//
// Plain ES5 syntax (no let/const, arrows, classes or template literals): the page may
// still support old browsers. An API a browser lacks is simply not patched. The builder
// (_build.py) drops the comment lines and indentation of this file and puts the rules
// where __DATA__ stands:
//   h: [host, path prefixes or 0, rule index] for every rule host, in rule order
//   r: rule names; m: [regex source, 1 if matched on lowercased text, rule index], where
//      \x01 stands for Python's whitespace class and \x02 for the identifier class
//   p: attribute prefix of blocked elements; e: report endpoint path ("" for none)
// A comment line starts with "//" after its indentation; no other line does, and no
// statement relies on a line break, so dropping them never changes the program.
(function (w, D) {
  'use strict';
  var KEY = '__optoutGuard', O = Object, gopd = O.getOwnPropertyDescriptor;
  // A second copy of the script (the page included twice) leaves the first in charge.
  if (w[KEY] || typeof WeakMap !== 'function' || typeof w.URL !== 'function' || !w.Reflect) {
    return;
  }
  var dp = O.defineProperty, doc = w.document, Url = w.URL, names = D.r;
  var hosts = O.create(null), markers = [], originals = new WeakMap(), xhrs = new WeakMap();
  var stringify = JSON.stringify, later = w.setTimeout, Prom = w.Promise;
  var stats = {total: 0, vectors: {}, blocked: []}, seen = O.create(null), sent = 0;
  var E = Element.prototype, getAttr = E.getAttribute, setAttr = E.setAttribute;
  var inner = gopd(E, 'innerHTML'), NP = Navigator.prototype, beacon = NP.sendBeacon;
  var FP = Function.prototype, fts = FP.toString, decoder, i, j, x;
  var UNRESERVED = /%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g;
  // Python's \s, which the server's expressions use (JavaScript's differs).
  var WS = '[\\t-\\r\\x1c- \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
  var URL_IN_TEXT = new RegExp('\\/\\\\?\\/(?:[^\\/\\\\"\'<>@?#' + WS.slice(1, -1) + ']*@)?' +
    '([a-z0-9_.\\-]+)(?::[0-9]*)?((?:\\\\?\\/[a-z0-9_.~%!$&()*+,;=:@\\-]*)*)', 'g');
  // Fetching attributes per element, as the server's rewriter judges them.
  var TAGS = {SCRIPT: 'src', IMG: 'src srcset', IFRAME: 'src', SOURCE: 'src srcset',
    LINK: 'href', EMBED: 'src', OBJECT: 'data'};
  var SEL = 'script,img,iframe,source,link,embed,object';
  for (i in TAGS) {
    TAGS[i] = TAGS[i].split(' ');
  }

  // --- matching: RuleSet.match_url and match_inline, restated ---------------------------
  function unreserved(p) {
    return p.replace(UNRESERVED, function (m, h) {
      return String.fromCharCode(parseInt(h, 16));
    });
  }
  for (i = 0; i < D.h.length; i++) {
    x = D.h[i];
    for (j = 0; x[1] && j < x[1].length; j++) {
      x[1][j] = unreserved(x[1][j]);
    }
    (hosts[x[0]] = hosts[x[0]] || []).push(x);
  }
  for (i = 0; i < D.m.length; i++) {
    try {
      markers.push([new RegExp(D.m[i][0].replace(/\x01/g, WS).replace(/\x02/g, 'A-Za-z0-9_$$')),
        D.m[i][1], D.m[i][2]]);
    } catch (err) {}
  }
  // Path prefixes match whole segments ("/tr" matches "/tr/x", not "/track").
  function under(path, list) {
    for (var k = 0, p; k < list.length; k++) {
      p = list[k];
      if (path.lastIndexOf(p, 0) === 0 && (path.length === p.length || /\/$/.test(p) ||
          path.charAt(p.length) === '/')) {
        return 1;
      }
    }
  }
  // The first rule (index) naming this host or a parent domain, honouring paths; -1.
  function byHost(host, path) {
    var labels = host.replace(/\.+$/, '').split('.'), best = -1, k, n, list;
    for (k = /^\[/.test(host) ? labels.length : 0; k < labels.length; k++) {
      list = hosts[labels.slice(k).join('.')] || [];
      for (n = 0; n < list.length && (best < 0 || list[n][2] < best); n++) {
        if (!list[n][1] || under(unreserved(path), list[n][1])) {
          best = list[n][2];
          break;
        }
      }
    }
    return best;
  }
  // The URL as the browser resolves it (against document.baseURI), if it has a host.
  function parse(u) {
    try {
      u = new Url(u, doc.baseURI);
      return /^(https?|wss?|ftp):$/.test(u.protocol) ? u : null;
    } catch (err) {
      return null;
    }
  }
  // Shortcut: a URL (or markup) can only name a rule host if that host's name occurs in
  // it, lowercased and without tabs and newlines (which the URL parser drops), unless a
  // percent escape or a non-ASCII character (or, in markup, a character reference) could
  // spell it otherwise, or the document's base is itself under a rule (relative URLs).
  var hostNames = O.keys(hosts), base, baseRuled;
  var NAMED = new RegExp(hostNames.join('|').replace(/[.$]/g, '\\$&') || '$^');
  function named(s, hiding) {
    if (base !== doc.baseURI) {
      base = doc.baseURI;
      x = parse(base);
      baseRuled = !x || NAMED.test(x.hostname);
    }
    return baseRuled || hiding.test(s) || NAMED.test(s.toLowerCase().replace(/[\t\n\r]/g, ''));
  }
  function match(u) {
    var p = u == null || !named(String(u), /[%\u0080-\uffff]/) ? null : parse(u);
    return p ? byHost(p.hostname, p.pathname) : -1;
  }
  // Rule hosts named by URLs in script text: per host, its first path that matches.
  function urlHits(low) {
    var paths = O.create(null), order = [], best = -1, m, k, n, r;
    URL_IN_TEXT.lastIndex = 0;
    while ((m = URL_IN_TEXT.exec(low))) {
      (paths[m[1]] || (order.push(m[1]), paths[m[1]] = [])).push(m[2]);
    }
    for (k = 0; k < order.length; k++) {
      for (n = 0, r = -1; n < paths[order[k]].length && r < 0; n++) {
        r = byHost(order[k], paths[order[k]][n].replace(/\\\//g, '/') || '/');
      }
      best = r >= 0 && (best < 0 || r < best) ? r : best;
    }
    return best;
  }
  function inline(t) {
    var low = t.toLowerCase(), best = urlHits(low), k;
    if (best < 0 && /&(#|sol;|colon;|period;|bsol;)/i.test(t)) {
      // Character references (as a <noscript> block may hold), decoded the HTML way.
      decoder = decoder || doc.implementation.createHTMLDocument('').createElement('textarea');
      inner.set.call(decoder, t);
      best = urlHits(decoder.value.toLowerCase());
    }
    for (k = 0; k < markers.length; k++) {
      if ((best < 0 || markers[k][2] < best) && markers[k][0].test(markers[k][1] ? low : t)) {
        best = markers[k][2];
      }
    }
    return best;
  }
  // [rule index, URL] for the first URL of an attribute value that names a tracker; for
  // srcset, any candidate (a URL never holds whitespace; a comma inside one only splits it
  // after its host).
  function attrRule(a, v) {
    for (var list = v == null ? [] : a === 'srcset' ? String(v).split(/[\s,]+/) : [v], k = 0, r;
      k < list.length; k++) {
      if ((r = match(list[k])) >= 0) {
        return [r, list[k]];
      }
    }
  }

  // --- counting and the report --------------------------------------------------------------
  function hit(vector, u) {
    var p = u ? parse(u) : null, s = p ? (p.protocol + '//' + p.host + p.pathname).slice(0, 200) : '';
    stats.total++;
    stats.vectors[vector] = (stats.vectors[vector] || 0) + 1;
    if (stats.blocked.length < 20 && !seen[vector + s]) {
      seen[vector + s] = stats.blocked.push({url: s, vector: vector});
    }
  }
  function report() {
    if (!sent && stats.total && D.e) {
      sent = 1;
      try {
        beacon.call(navigator, D.e, stringify({type: 'optout-guard', page: location.pathname,
          total: stats.total, vectors: stats.vectors, blocked: stats.blocked}));
      } catch (err) {}
    }
  }
  w.addEventListener('pagehide', report);
  doc.addEventListener('visibilitychange', function () {
    if (doc.visibilityState === 'hidden') {
      report();
    }
  });

  // --- patching: wrappers look native and are installed once --------------------------------
  function disguise(f, orig) {
    originals.set(f, orig);
    dp(f, 'name', {value: orig.name});
    dp(f, 'length', {value: orig.length});
    return f;
  }
  // Patch o[k] (its setter when set is true) with make(original), keeping the descriptor.
  function patch(o, k, make, set) {
    var d = o && gopd(o, k), f = d && (set ? d.set : d.value);
    if (typeof f === 'function') {
      d[set ? 'set' : 'value'] = disguise(make(f), f);
      dp(o, k, d);
    }
  }
  patch(FP, 'toString', function () {
    return function () {
      return fts.call(originals.get(this) || this);
    };
  });
  function fire(t, type, own) {
    later(function () {
      var ev = new Event(type);
      if (own && typeof t['on' + type] === 'function') {
        t['on' + type](ev);
      }
      t.dispatchEvent(ev);
    });
  }
  function nop() {}

  // --- elements ---------------------------------------------------------------------------
  // Neutralise in place, as the server's "block" action writes it; a script or image that
  // cannot load fires error, as one blocked by the network or a CSP does.
  function block(el, r, a, v) {
    setAttr.call(el, D.p + 'rule', names[r]);
    if (el.tagName === 'SCRIPT') {
      x = getAttr.call(el, 'type');
      if (x != null) {
        setAttr.call(el, D.p + 'type', x);
      }
      setAttr.call(el, 'type', 'text/plain');
    }
    if (a) {
      setAttr.call(el, D.p + a, v);
      E.removeAttribute.call(el, a);
    }
    if (/^(SCRIPT|IMG|LINK)$/.test(el.tagName)) {
      fire(el, 'error');
    }
  }
  // An element about to be inserted or parsed: blocked if a fetching attribute or its inline
  // script text names a tracker. Returns 1 when blocked.
  function judge(el, vector) {
    for (var list = TAGS[el.tagName] || [], k = 0, r, v; k < list.length; k++) {
      v = getAttr.call(el, list[k]);
      if ((r = attrRule(list[k], v))) {
        hit(vector, r[1]);
        block(el, r[0], list[k], v);
        return 1;
      }
    }
    if (el.tagName === 'SCRIPT' && getAttr.call(el, 'src') == null && el.text &&
        (r = inline(el.text)) >= 0) {
      hit(vector);
      block(el, r);
      return 1;
    }
    return 0;
  }
  // A node and the elements inside it; errors leave the page's call to run as it would.
  function scan(node, vector) {
    var n = 0, list, k;
    try {
      n = node.nodeType === 1 ? judge(node, vector) : 0;
      for (list = node.firstElementChild ? node.querySelectorAll(SEL) : [], k = 0; k < list.length; k++) {
        n += judge(list[k], vector);
      }
    } catch (err) {}
    return n;
  }
  // Markup is parsed in an inert template; when nothing is blocked the page's own string
  // goes through untouched, otherwise the neutralised markup does.
  function clean(html, vector) {
    if (typeof html !== 'string' || !/<(script|img|iframe|source|link|embed|object)/i.test(html) ||
        !named(html, /<script|[&%\u0080-\uffff]/i)) {
      return html;
    }
    try {
      var t = doc.createElement('template');
      inner.set.call(t, html);
      return scan(t.content, vector) ? inner.get.call(t) : html;
    } catch (err) {
      return html;
    }
  }
  w[KEY] = {
    match: function (u) {
      return names[match(u)] || null;
    },
    inline: function (t) {
      return names[inline(String(t))] || null;
    },
    stats: stats
  };
  // Insertion: the node arguments from index `first` on (just that one when `one`) are
  // judged when the target is in the document; a detached tree is judged when attached.
  function inserting(o, k, first, one) {
    patch(o, k, function (orig) {
      return function () {
        for (var a = first; this.isConnected !== false && a < (one ? first + 1 : arguments.length); a++) {
          if (arguments[a] && arguments[a].nodeType) {
            scan(arguments[a], k);
          }
        }
        return orig.apply(this, arguments);
      };
    });
  }
  x = ['appendChild', 'insertBefore', 'replaceChild'];
  for (i = 0; i < 3; i++) {
    inserting(Node.prototype, x[i], 0, 1);
  }
  inserting(E, 'insertAdjacentElement', 1, 1);
  x = [E, Document.prototype, DocumentFragment.prototype, CharacterData.prototype];
  for (i = 0; i < 4; i++) {
    for (j in {append: 0, prepend: 0, before: 0, after: 0, replaceWith: 0, replaceChildren: 0}) {
      inserting(x[i], j, 0);
    }
  }
  // Markup sinks: the string argument at index `at` (all of them joined for write).
  function markup(o, k, at, set) {
    patch(o, k, function (orig) {
      return function () {
        var args = [].slice.call(arguments), c, s = at >= 0 ? args[at] :
          args.every(function (a) { return typeof a === 'string'; }) ? args.join('') : null;
        if ((c = clean(s, k)) === s) {
          return orig.apply(this, arguments);
        }
        args.splice(at < 0 ? 0 : at, at < 0 ? args.length : 1, c);
        return orig.apply(this, args);
      };
    }, set);
  }
  x = w.ShadowRoot && ShadowRoot.prototype;
  markup(E, 'innerHTML', 0, 1);
  markup(E, 'outerHTML', 0, 1);
  markup(x, 'innerHTML', 0, 1);
  markup(E, 'insertAdjacentHTML', 1);
  markup(E, 'setHTMLUnsafe', 0);
  markup(x, 'setHTMLUnsafe', 0);
  markup(Range.prototype, 'createContextualFragment', 0);
  markup(Document.prototype, 'write', -1);
  markup(Document.prototype, 'writeln', -1);
  // Fetching attributes, set as properties or with setAttribute(NS).
  function attribute(el, a, v, k) {
    var r = (TAGS[el.tagName] || []).indexOf(a) >= 0 && attrRule(a, v);
    if (r) {
      hit(k, r[1]);
      block(el, r[0], a, String(v));
    }
    return r;
  }
  function property(proto, a) {
    patch(proto, a, function (set) {
      return function (v) {
        if (!attribute(this, a, v, a)) {
          set.call(this, v);
        }
      };
    }, 1);
  }
  for (i in TAGS) {
    for (j = 0; j < TAGS[i].length; j++) {
      property(doc.createElement(i).constructor.prototype, TAGS[i][j]);
    }
  }
  patch(E, 'setAttribute', function (orig) {
    return function (n, v) {
      return attribute(this, String(n).toLowerCase(), v, 'setAttribute') ? undefined :
        orig.apply(this, arguments);
    };
  });
  patch(E, 'setAttributeNS', function (orig) {
    return function (ns, n, v) {
      return !ns && attribute(this, String(n).toLowerCase(), v, 'setAttributeNS') ? undefined :
        orig.apply(this, arguments);
    };
  });

  // --- the network ------------------------------------------------------------------------
  // A call whose first argument (or its url) names a tracker gets what `fail` returns.
  function call(o, k, fail) {
    patch(o, k, function (orig) {
      return function (u) {
        var v = u && u.url || u;
        if (match(v) < 0) {
          return orig.apply(this, arguments);
        }
        hit(k, v);
        return fail(this);
      };
    });
  }
  // What fetch gives for a network error: a native promise rejected with a TypeError.
  call(w, 'fetch', function () {
    return Prom.reject(new TypeError('Failed to fetch'));
  });
  call(NP, 'sendBeacon', function () {
    return false;
  });
  // What a popup blocker gives.
  call(w, 'open', function () {
    return null;
  });
  x = XMLHttpRequest.prototype;
  patch(x, 'open', function (orig) {
    return function (m, u) {
      xhrs[match(u) < 0 ? 'delete' : 'set'](this, u);
      return orig.apply(this, arguments);
    };
  });
  // XHR's "request error steps": DONE with status 0, then readystatechange, error, loadend.
  patch(x, 'send', function (orig) {
    return function () {
      if (!xhrs.has(this)) {
        return orig.apply(this, arguments);
      }
      hit('XMLHttpRequest', xhrs.get(this));
      for (var k in (x = {readyState: 4, status: 0, statusText: '', response: '', responseText: ''})) {
        dp(this, k, {value: x[k], configurable: true});
      }
      fire(this, 'readystatechange');
      fire(this, 'error');
      fire(this, 'loadend');
    };
  });
  // WebSocket and EventSource: a blocked connection is an inert, closed object that fires
  // error (and close), as a connection refused by the network would.
  function connection(name, closed) {
    var C = w[name], d = gopd(w, name), W = C && disguise(function (u) {
      // Called without new it throws, as the original does; a subclass stays a subclass.
      if (!(this instanceof W)) {
        return C.apply(this, arguments);
      }
      if (!arguments.length || match(u) < 0) {
        return Reflect.construct(C, arguments, this.constructor);
      }
      hit(name, u);
      // Every accessor and method of the prototype shadowed: reading one never throws.
      var t, p = C.prototype, list = O.getOwnPropertyNames(p), k, v, props = {url: parse(u).href,
        readyState: closed, bufferedAmount: 0, binaryType: 'blob', withCredentials: false};
      try {
        t = new EventTarget();
      } catch (err) {
        t = doc.createDocumentFragment();
      }
      O.setPrototypeOf(t, p);
      for (k = 0; k < list.length; k++) {
        v = gopd(p, list[k]);
        if (v.get || typeof v.value === 'function' && list[k] !== 'constructor') {
          dp(t, list[k], {value: v.get ? (/^on/.test(list[k]) ? null : list[k] in props ?
            props[list[k]] : '') : nop, writable: true});
        }
      }
      fire(t, 'error', 1);
      if (closed > 2) {
        fire(t, 'close', 1);
      }
      return t;
    }, C);
    if (W) {
      W.prototype = C.prototype;
      for (var k in {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3}) {
        W[k] = C[k];
      }
      d.value = W;
      dp(w, name, d);
    }
  }
  connection('WebSocket', 3);
  connection('EventSource', 2);
})(window, __DATA__);
