/*
 * mgref's Markdown editor: a live preview under each Markdown field, asked
 * for only while the editor types in it (never on page load), in rows added
 * with "Add another" too (one listener on the document), and images dropped
 * on a field or chosen with the file button under it uploaded and inserted
 * as Markdown. The preview HTML comes from
 * mgref's sanitising renderer. Replaces django-markdownx's script, which
 * previewed every field on load.
 */
(function () {
  "use strict";

  var DELAY = 400;
  var timers = new WeakMap();
  var sent = new WeakMap();

  function csrfToken(field) {
    var form = field.form || document;
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function previewOf(field) {
    var box = field.closest(".markdownx");
    return box ? box.querySelector(".markdownx-preview") : null;
  }

  function isEditor(node) {
    return node && node.matches && node.matches("textarea.markdownx-editor");
  }

  function refresh(field) {
    var preview = previewOf(field);
    var url = field.getAttribute("data-markdownx-urls-path");
    if (!preview || !url) return;
    var body = new FormData();
    body.append("content", field.value);
    var number = (sent.get(field) || 0) + 1;
    sent.set(field, number);
    preview.setAttribute("aria-busy", "true");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(field) },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("preview " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (sent.get(field) !== number) return; // a newer preview is on its way
        preview.innerHTML = html;
      })
      .catch(function () {
        preview.textContent = "The preview could not be loaded; your text is unchanged.";
      })
      .finally(function () {
        preview.removeAttribute("aria-busy");
      });
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!isEditor(field)) return;
    clearTimeout(timers.get(field));
    timers.set(field, setTimeout(function () { refresh(field); }, DELAY));
  });

  function insertAtCursor(field, text) {
    var start = field.selectionStart || 0;
    var end = field.selectionEnd || 0;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.selectionStart = field.selectionEnd = start + text.length;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("dragover", function (event) {
    if (isEditor(event.target)) event.preventDefault();
  });

  function statusOf(field) {
    var box = field.closest(".markdownx");
    return box ? box.querySelector(".markdownx-image-status") : null;
  }

  // Says how an upload went, where screen readers hear it (role="status").
  function say(field, text) {
    var status = statusOf(field);
    if (status) status.textContent = text;
  }

  // Uploads one image and inserts its Markdown at the cursor; true if it did.
  function upload(field, file) {
    var url = field.getAttribute("data-markdownx-upload-urls-path");
    var body = new FormData();
    body.append("image", file);
    say(field, "Uploading " + file.name + "…");
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(field) },
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer.image_code) {
          insertAtCursor(field, answer.image_code);
          say(field, file.name + " inserted.");
          return true;
        }
        say(field, file.name + ": " + (answer.image || ["Upload refused."]).join(" "));
        return false;
      })
      .catch(function () {
        say(field, file.name + " could not be uploaded; your text is unchanged.");
        return false;
      });
  }

  document.addEventListener("drop", function (event) {
    var field = event.target;
    if (!isEditor(field) || !event.dataTransfer || !event.dataTransfer.files.length) {
      return;
    }
    event.preventDefault();
    Array.prototype.forEach.call(event.dataTransfer.files, function (file) {
      upload(field, file);
    });
  });

  // The file button under a field: what a keyboard (or a phone) has instead
  // of dropping. The image goes where the field's cursor was.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input.markdownx-image-input")) return;
    var box = input.closest(".markdownx");
    var field = box ? box.querySelector("textarea.markdownx-editor") : null;
    if (!field || !input.files.length) return;
    var uploads = Array.prototype.map.call(input.files, function (file) {
      return upload(field, file);
    });
    Promise.all(uploads).then(function (done) {
      input.value = "";
      // Back to the text only when it changed: a refusal stays to be read.
      if (done.every(Boolean)) field.focus();
    });
  });
})();
