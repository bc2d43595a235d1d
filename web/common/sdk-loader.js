// The chat SDK's loader: runs the CommonJS files of sdk/ in the browser without a bundler.
// GET /sdk/<name> answers each file wrapped in paipaiSdk.define(name, [its relative requires], factory);
// paipaiSdk.load("adapters/browser.js") adds a <script> for each module not seen yet (same origin, so the
// pages' strict CSP holds) and resolves with the module's exports once it and all it requires are defined.
(function () {
  "use strict";
  var defined = {};   // name → {deps, factory, module (once run)}
  var requested = {};
  var waiting = [];   // {name, resolve, reject}

  function fetchModule(name) {
    if (requested[name]) return;
    requested[name] = true;
    var script = document.createElement("script");
    script.src = "/sdk/" + name;
    script.onerror = function () {
      waiting.forEach(function (w) { w.reject(new Error("paipai sdk: cannot load " + name)); });
      waiting = [];
    };
    document.head.appendChild(script);
  }

  // Every module `name` needs, transitively, is defined.
  function ready(name, seen) {
    if (!defined[name]) return false;
    seen = seen || {};
    if (seen[name]) return true;
    seen[name] = true;
    return defined[name].deps.every(function (dep) { return ready(dep, seen); });
  }

  function resolvePath(from, request) {
    var parts = from.split("/").slice(0, -1);
    request.split("/").forEach(function (part) {
      if (part === "..") parts.pop();
      else if (part !== "." && part !== "") parts.push(part);
    });
    return parts.join("/");
  }

  function run(name) {
    var entry = defined[name];
    if (entry.module) return entry.module.exports;
    entry.module = { exports: {} };
    entry.factory(function (request) { return run(resolvePath(name, request)); }, entry.module, entry.module.exports);
    return entry.module.exports;
  }

  function settle() {
    waiting = waiting.filter(function (w) {
      if (!ready(w.name)) return true;
      try {
        w.resolve(run(w.name));
      } catch (err) {
        w.reject(err);
      }
      return false;
    });
  }

  window.paipaiSdk = {
    define: function (name, deps, factory) {
      defined[name] = { deps: deps, factory: factory, module: null };
      deps.forEach(fetchModule);
      settle();
    },
    load: function (name) {
      return new Promise(function (resolve, reject) {
        waiting.push({ name: name, resolve: resolve, reject: reject });
        fetchModule(name);
        settle();
      });
    },
  };
})();
