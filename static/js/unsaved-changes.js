/*
 * Warn before leaving an edit page with unsaved changes. The form counts as
 * changed once the editor types, picks or ticks something in it, or from the
 * start when the page comes back from a save that did not happen (errors to
 * fix, or a conflict with another editor's save): what it holds is typing
 * that is nowhere else. Saving it (any submit of that form) clears the warning.
 */
(function () {
  "use strict";

  // What the admin shows when a post was not saved (monographs' change form
  // and Django's own: "Please correct the errors below.").
  var NOT_SAVED = "#error-summary, .merge-panel, .errornote, .errorlist";

  function watch(form) {
    var changed = document.querySelector(NOT_SAVED) !== null;
    if (changed) form.setAttribute("data-unsaved", "true");
    function markChanged(event) {
      if (event && event.target && event.target.name === "merge_take_theirs") return;
      changed = true;
      form.setAttribute("data-unsaved", "true");
    }
    form.addEventListener("input", markChanged);
    form.addEventListener("change", markChanged);
    // select2 (autocomplete) announces its changes through jQuery only.
    if (window.django && window.django.jQuery) {
      window.django.jQuery(form).on("select2:select select2:unselect", markChanged);
    }
    form.addEventListener("submit", function () {
      changed = false;
      form.removeAttribute("data-unsaved");
    });
    window.addEventListener("beforeunload", function (event) {
      if (!changed) return undefined;
      event.preventDefault();
      event.returnValue = "";
      return "";
    });
  }

  function start() {
    document.querySelectorAll("form[data-warn-unsaved], #content-main form[method=post]")
      .forEach(function (form) {
        if (form.querySelector("input[name=edit_summary]")) watch(form);
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
