// Apertur dashboard: small progressive enhancements. Every page works without this script.
(function () {
  "use strict";

  function token(form) {
    var input = (form || document).querySelector("input[name=__RequestVerificationToken]");
    return input ? input.value : "";
  }

  // Copy buttons: data-copy="#element" copies the element's value or text.
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy]");
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) return;
    var text = "value" in target && target.value !== undefined ? target.value : target.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text.trim()).then(done, function () { select(target); });
    } else {
      select(target);
      try { if (document.execCommand("copy")) done(); } catch (err) { /* the text stays selected */ }
    }
  });

  function select(element) {
    if (element.select) { element.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Reveal buttons: data-reveal="#element" shows a hidden secret, and hides it again.
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-reveal]");
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-reveal"));
    if (!target) return;
    var hidden = target.hasAttribute("hidden");
    target.toggleAttribute("hidden", !hidden);
    var mask = document.querySelector(button.getAttribute("data-reveal") + "-mask");
    if (mask) mask.toggleAttribute("hidden", hidden);
    button.textContent = hidden ? "Hide" : "Reveal";
    button.setAttribute("aria-expanded", hidden ? "true" : "false");
  });

  // Forms that ask first: data-confirm="Delete this key?".
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) e.preventDefault();
  }, true);

  // Forms answered in place: data-inplace="#result" posts with fetch and shows the answer's fragment there.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var selector = form.getAttribute("data-inplace");
    if (!selector || e.defaultPrevented) return;
    var result = document.querySelector(selector);
    if (!result) return;
    e.preventDefault();
    var button = form.querySelector("button[type=submit], button:not([type])");
    if (button) button.disabled = true;
    result.textContent = form.getAttribute("data-busy") || "Working…";
    result.className = "result busy";
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Dashboard-Fragment": "1", "RequestVerificationToken": token(form) },
      credentials: "same-origin"
    }).then(function (response) {
      return response.text().then(function (html) {
        result.className = "result";
        result.innerHTML = response.ok ? html : "<p class=\"error\">The server answered " + response.status + ". Reload the page and try again.</p>";
      });
    }).catch(function () {
      result.className = "result";
      result.innerHTML = "<p class=\"error\">The server could not be reached.</p>";
    }).finally(function () {
      if (button) button.disabled = false;
    });
  });

  // Selects that navigate: data-navigate, each option's value is a URL.
  document.addEventListener("change", function (e) {
    var select = e.target.closest("select[data-navigate]");
    if (select && select.value) window.location.assign(select.value);
  });

  // Live regions: data-live="fragment URL" with data-events="SSE URL" refresh on each event of the session.
  function live(region) {
    var status = document.querySelector("[data-live-status]");
    var fragment = region.getAttribute("data-live");
    var pending = false, again = false;
    function setStatus(text, state) {
      if (!status) return;
      status.textContent = text;
      status.setAttribute("data-state", state);
    }
    function refresh() {
      if (pending) { again = true; return; }
      pending = true;
      fetch(fragment, { headers: { "X-Dashboard-Fragment": "1" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) region.innerHTML = html; })
        .catch(function () { /* the next event refreshes again */ })
        .finally(function () {
          pending = false;
          if (again) { again = false; setTimeout(refresh, 150); }
        });
    }
    if (!window.EventSource) { setStatus("Live updates need a newer browser: reload to see changes.", "off"); return; }
    var source = new EventSource(region.getAttribute("data-events"));
    source.addEventListener("open", function () { setStatus("Live", "on"); });
    source.addEventListener("error", function () { setStatus("Reconnecting…", "off"); });
    ["connected", "image:ready", "image:delivering", "image:delivered", "image:failed", "image:retrying", "session:completed", "session:updated"]
      .forEach(function (name) {
        source.addEventListener(name, function () {
          setStatus("Live", "on");
          if (name !== "connected") refresh();
        });
      });
    // A reconnect may have missed events: refresh once it is back.
    source.addEventListener("connected", refresh);
  }

  document.querySelectorAll("[data-live][data-events]").forEach(live);
})();
