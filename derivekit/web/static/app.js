// derivekit's only script: optional niceties. Every page works without it.
(function () {
  "use strict";
  // copy buttons: fetch the export (same origin) and put it on the clipboard
  document.querySelectorAll("[data-copy-from]").forEach(function (el) {
    el.hidden = false;
    el.setAttribute("role", "button");
    el.tabIndex = 0;
    el.addEventListener("click", function () {
      fetch(el.getAttribute("data-copy-from")).then(function (r) { return r.text(); })
        .then(function (text) { return navigator.clipboard.writeText(text); })
        .then(function () { el.textContent = "copied"; }, function () { el.textContent = "copy failed"; });
    });
  });
  // live preview: the parsed input as MathML, from the server's own /preview
  document.querySelectorAll("input[data-preview]").forEach(function (input) {
    var target = document.getElementById(input.getAttribute("data-preview"));
    var timer = null;
    function update() {
      if (!input.value.trim()) { target.replaceChildren(); return; }
      fetch("/preview?expr=" + encodeURIComponent(input.value)).then(function (r) { return r.text(); })
        .then(function (markup) {
          var doc = new DOMParser().parseFromString(markup, "text/html");
          target.replaceChildren.apply(target, Array.from(doc.body.childNodes));
        }, function () {});
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 250); });
    if (input.value) { update(); }
  });
  // history: the last pages with a result, kept in this browser only, listed on the home page
  try {
    var key = "derivekit-history";
    var past = JSON.parse(localStorage.getItem(key) || "[]");
    var here = new URLSearchParams(location.search);
    var input = here.get("expr") || here.get("loss") || here.get("matrix") || here.get("u");
    if (input && document.querySelector("section.answer")) {
      var url = location.pathname + location.search;
      past = [{url: url, label: location.pathname.slice(1) + ": " + input.slice(0, 80)}]
        .concat(past.filter(function (p) { return p.url !== url; })).slice(0, 10);
      localStorage.setItem(key, JSON.stringify(past));
    }
    var box = document.getElementById("history");
    if (box && past.length) {
      var list = box.querySelector("ul");
      past.forEach(function (p) {
        if (typeof p.url !== "string" || p.url.charAt(0) !== "/" || p.url.charAt(1) === "/") { return; }
        var item = document.createElement("li"), link = document.createElement("a");
        link.href = p.url;
        link.textContent = String(p.label);
        item.appendChild(link);
        list.appendChild(item);
      });
      box.hidden = false;
    }
  } catch (e) { /* storage off: no history */ }
})();
