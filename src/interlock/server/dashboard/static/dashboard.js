/* interlock dashboard — live updates that a reader can pause, and announcements for screen
 * readers when the log grows.  htmx does the polling (see base.html); this file only decides
 * whether a poll may go out and says what changed.  Written for interlock (Apache-2.0). */
(function () {
  "use strict";
  var KEY = "interlock:live";

  function toggle() { return document.getElementById("live-toggle"); }
  function liveOn() { var t = toggle(); return !t || t.checked; }

  document.addEventListener("DOMContentLoaded", function () {
    var t = toggle();
    if (!t) return;
    try { if (localStorage.getItem(KEY) === "off") t.checked = false; } catch (e) { /* private mode */ }
    t.addEventListener("change", function () {
      try { localStorage.setItem(KEY, t.checked ? "on" : "off"); } catch (e) { /* private mode */ }
      note(t.checked ? "Live updates on." : "Live updates paused.");
    });
  });

  function note(text) {
    var el = document.getElementById("live-note");
    if (el) el.textContent = text;
  }

  var before = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || elt.id !== "live") return;
    if (!liveOn()) { event.preventDefault(); return; }
    before = elt.getAttribute("data-size");
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var live = document.getElementById("live");
    if (!live || before === null) return;
    var now = live.getAttribute("data-size");
    if (now !== before) {
      var grown = parseInt(now, 10) - parseInt(before, 10);
      var at = new Date().toISOString().slice(11, 16);
      note("Updated at " + at + " UTC: " + grown + " new log entr" + (grown === 1 ? "y" : "ies") + ".");
    }
    before = null;
  });
})();
