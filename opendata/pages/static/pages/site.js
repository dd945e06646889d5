/* The pages' one script, and they work without it: on a source's page, `#char=start,end` (RFC 5147,
   as in the API's `text_url`) marks that span of the text and scrolls to it. Offsets count characters
   (Unicode code points) of the text, as the API's do. */
(function () {
  "use strict";
  function clearFragment(text) {
    text.querySelectorAll("mark.fragment").forEach(function (m) {
      var parent = m.parentNode;
      while (m.firstChild) parent.insertBefore(m.firstChild, m);
      parent.removeChild(m);
      parent.normalize();
    });
    text.removeAttribute("data-fragment");
  }
  function markRange(text, start, end) {
    var walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
    var position = 0, pieces = [], node;
    while ((node = walker.nextNode())) {
      var chars = Array.from(node.data), from = position, to = position + chars.length;
      if (to > start && from < end) {
        var a = Math.max(start, from) - from, b = Math.min(end, to) - from;
        pieces.push([node, chars.slice(0, a).join("").length, chars.slice(0, b).join("").length]);
      }
      position = to;
      if (position >= end) break;
    }
    var first = null;
    pieces.forEach(function (p) {
      var range = document.createRange();
      range.setStart(p[0], p[1]);
      range.setEnd(p[0], p[2]);
      var mark = document.createElement("mark");
      mark.className = "fragment";
      range.surroundContents(mark);
      if (!first) first = mark;
    });
    return first;
  }
  function follow() {
    var text = document.getElementById("source-text");
    if (!text) return;
    var match = /^#char=(\d+)(?:,(\d+))?$/.exec(window.location.hash);
    if (!match) return;
    clearFragment(text);
    var start = parseInt(match[1], 10), end = match[2] ? parseInt(match[2], 10) : start + 1;
    var first = markRange(text, start, end);
    if (first) {
      first.id = "fragment";
      first.setAttribute("tabindex", "-1");
      text.setAttribute("data-fragment", start + "," + end);
      first.scrollIntoView({block: "center"});
      first.focus({preventScroll: true});
    }
  }
  // On a phone the filters start folded, so that the list comes first (open without the script).
  function foldFilters() {
    if (window.matchMedia && window.matchMedia("(max-width: 48rem)").matches) {
      document.querySelectorAll("details.facet-box").forEach(function (d) { d.open = false; });
    }
  }
  window.addEventListener("hashchange", follow);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", foldFilters); else foldFilters();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", follow); else follow();
})();
