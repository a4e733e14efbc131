/*
 * Warn before leaving an edit page with unsaved changes. The form counts as
 * changed once the editor types, picks or ticks something in it; saving it
 * (any submit of that form) clears the warning.
 */
(function () {
  "use strict";

  function watch(form) {
    var changed = false;
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
