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
})();
