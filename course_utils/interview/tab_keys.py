"""Tab in the quiz's text boxes indents instead of moving the focus (notebook 09).

A browser moves the focus out of a ``<textarea>`` on Tab; in JupyterLab the next keys then
reach the notebook and act as its command shortcuts (``r`` makes the cell Raw, ``0 0``
restarts the kernel). ipywidgets' Textarea already stops the propagation of the keys typed
*inside* it; what is missing is Tab itself. :data:`TAB_KEYS_JS` is a small script, shown
once by the quiz apps (a ``Javascript`` display output), that listens on the document in
the capture phase:

* on ``Tab`` (no Ctrl/Alt/Meta) in a ``textarea`` inside an element of class
  :data:`TAB_CLASS`, it prevents the default focus move and inserts four spaces at the
  caret (Shift+Tab removes up to four spaces at the start of the line), then fires an
  ``input`` event so that ipywidgets syncs the value to the kernel;
* on ``focusin`` in such a textarea, it marks the box with ``data-lm-suppress-shortcuts``,
  the attribute Lumino's command registry checks to ignore key bindings for events coming
  from inside an element.

Only the standard library; imports nothing of the package.
"""

from __future__ import annotations

__all__ = ["TAB_CLASS", "TAB_KEYS_JS", "indent_text"]

#: the CSS class of the widgets whose textareas keep Tab (the quiz's code and notes boxes)
TAB_CLASS = "vdl-tab-indent"
INDENT = "    "

TAB_KEYS_JS = r"""
(function () {
  if (window.__vdlTabKeys) { return; }
  window.__vdlTabKeys = true;
  var INDENT = "    ";
  // text, selection -> new text and selection; shift removes up to 4 spaces of indentation
  function indentText(value, start, end, shift) {
    if (!shift) {
      var v = value.slice(0, start) + INDENT + value.slice(end);
      return [v, start + INDENT.length, start + INDENT.length];
    }
    var lineStart = start > 0 ? value.lastIndexOf("\n", start - 1) + 1 : 0;
    var n = 0;
    while (n < INDENT.length && value.charAt(lineStart + n) === " ") { n += 1; }
    var cut = function (p) { return p >= lineStart + n ? p - n : Math.max(lineStart, p); };
    return [value.slice(0, lineStart) + value.slice(lineStart + n), cut(start), cut(end)];
  }
  window.__vdlIndentText = indentText;
  function box(t) {
    return t && t.tagName === "TEXTAREA" && t.closest ? t.closest(".__CLASS__") : null;
  }
  document.addEventListener("focusin", function (e) {
    var b = box(e.target);
    if (b) { b.setAttribute("data-lm-suppress-shortcuts", "true"); }
  }, true);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Tab" || e.ctrlKey || e.altKey || e.metaKey) { return; }
    var t = e.target;
    var b = box(t);
    if (!b) { return; }
    e.preventDefault();
    b.setAttribute("data-lm-suppress-shortcuts", "true");
    var r = indentText(t.value, t.selectionStart, t.selectionEnd, e.shiftKey);
    t.value = r[0];
    t.selectionStart = r[1];
    t.selectionEnd = r[2];
    t.dispatchEvent(new Event("input", { bubbles: true }));
  }, true);
})();
""".replace("__CLASS__", TAB_CLASS)


def indent_text(value: str, start: int, end: int, shift: bool = False) -> tuple[str, int, int]:
    """What Tab (or Shift+Tab) does to a box's text and selection; the Python twin of the
    script's ``indentText``, for the tests."""
    if not shift:
        v = value[:start] + INDENT + value[end:]
        return v, start + len(INDENT), start + len(INDENT)
    line_start = value.rfind("\n", 0, start) + 1 if start > 0 else 0
    n = 0
    while n < len(INDENT) and value[line_start + n : line_start + n + 1] == " ":
        n += 1

    def cut(p: int) -> int:
        return p - n if p >= line_start + n else max(line_start, p)

    return value[:line_start] + value[line_start + n :], cut(start), cut(end)
