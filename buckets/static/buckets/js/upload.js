/*
 * django-buckets: the S3FileWidget's uploader. Plain JavaScript, no dependencies, no build.
 *
 * Each widget ([data-s3file]) holds a hidden input (the form value: a storage name) and a
 * nameless file input. Choosing or dropping a file:
 *   1. checks its type (with the server's own rule, data-type-rules) and size here, for a fast
 *      message (the signed policy is the guard);
 *   2. POSTs {key, field, content_type, size} as JSON to data-signed-url (with the CSRF token);
 *   3. POSTs every returned field, then the file as "file", to the returned url (XHR, so the
 *      upload reports progress), straight to the bucket;
 *   4. on success writes the object's storage name into the hidden input.
 * A file larger than the multipart threshold (data-multipart) goes up in parts instead: the
 * server creates the upload and fixes its part plan; several parts are PUT at once, each a
 * slice of the file (never the whole file in memory) to a URL whose length is signed; a
 * failed part is retried with backoff on its own; a lost connection is waited out, and the
 * upload resumes from the parts the bucket lists. A small record in localStorage lets the
 * same file, chosen again after a reload, resume too. Cancel aborts the upload on S3.
 * Any failure is said in words and leaves the previous value in place. While an upload is in
 * flight its form cannot be submitted. Widgets added later (admin inlines, formsets) are
 * picked up by a MutationObserver; "__prefix__" template rows are left alone until cloned.
 *
 * Each widget's root element receives bubbling events: s3file:start, s3file:progress
 * (detail.percent), s3file:uploaded (detail.name, detail.file), s3file:error (detail.message),
 * s3file:cancelled, s3file:removed and s3file:restored (an undone removal). Progress also carries detail.loaded, detail.total,
 * detail.speed (bytes a second) and detail.secondsLeft.
 */
(function () {
  "use strict";

  if (window.djangoBuckets && window.djangoBuckets.uploader) {
    return; // the script was included twice (two forms' media on one page)
  }

  var SELECTOR = "[data-s3file]";
  var SUBMITTERS = "button, input[type='submit'], input[type='image']";
  var instances = new WeakMap();
  // Multipart uploads: parts in flight at once, part URLs asked for in one call, failures of
  // one part (or one call to the server) in a row before the upload stops with an error,
  // and how long the record of an unfinished upload is worth keeping.
  var PARTS_AT_ONCE = 6;
  var SIGN_BATCH = 16;
  var MAX_FAILURES = 6;
  var RECORD_PREFIX = "djangoBuckets.multipart:";
  var RECORD_MAX_AGE = 7 * 24 * 3600 * 1000;
  // Progress is drawn at most this often (ms), and always at the end: parts in flight report
  // many times a second each, and every drawing formats numbers and lays out text, on the
  // same cores that send the file.
  var PROGRESS_EVERY = 250;
  // Types a browser shows without running script: the local preview opens these in place.
  var INERT_TYPE = /^(image\/(png|jpeg|gif|webp|avif|bmp)|video\/[a-z0-9.+-]+|audio\/[a-z0-9.+-]+|application\/pdf|text\/plain)$/i;

  // -- small helpers ------------------------------------------------------------------------

  function interpolate(template, values) {
    return String(template || "").replace(/%%|%\((\w+)\)[sd]/g, function (match, key) {
      if (match === "%%") {
        return "%";
      }
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }

  // One Intl.NumberFormat per language and options: making one costs far more than using it.
  var numberFormats = {};
  function numberFormat(lang, options) {
    var key = JSON.stringify([lang || "", options]);
    if (!numberFormats[key]) {
      numberFormats[key] = new Intl.NumberFormat(lang, options);
    }
    return numberFormats[key];
  }

  // A BCP 47 language tag the Intl API takes, or undefined (the browser's own language).
  function usableLocale(lang) {
    if (!lang) {
      return undefined;
    }
    try {
      new Intl.NumberFormat(lang);
      return lang;
    } catch (e) {
      return undefined;
    }
  }

  // An exact count of bytes in words, with the plural rules of the language ("1 byte",
  // "2 bytes"; "2 bajty", "5 bajtów"). Only a browser without unit formatting gets the
  // symbol (units[0], "%s B"), which needs no plural either.
  function formatBytes(bytes, units, lang) {
    try {
      return numberFormat(lang, { style: "unit", unit: "byte", unitDisplay: "long" }).format(bytes);
    } catch (e) {
      return String(units[0] || "%s B").replace("%s", bytes.toLocaleString(lang));
    }
  }

  // "3.2 MiB": binary units, labelled as such, as the server says sizes
  // (buckets.uploads.wording.format_size): units are ["%s B", "%s KiB", "%s MiB", "%s GiB",
  // "%s TiB"] (symbols: no plural forms), from data-messages.
  function formatSize(bytes, units, exact, lang) {
    units = units && units.length ? units : ["%s B", "%s KiB", "%s MiB", "%s GiB", "%s TiB"];
    if (bytes < 1024 || exact) {
      return formatBytes(bytes, units, lang);
    }
    var value = bytes;
    var unit = 0;
    while (value >= 1023.95 && unit < units.length - 1) { // never "1,024.0 KiB"
      value /= 1024;
      unit += 1;
    }
    var text = numberFormat(lang, { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(value);
    return String(units[unit]).replace("%s", text);
  }

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].trim();
      if (part.slice(0, name.length + 1) === name + "=") {
        return decodeURIComponent(part.slice(name.length + 1));
      }
    }
    return "";
  }

  // "2 minutes", "5 seconds": the browser spells a duration in the page's language, with its
  // plural rules (as for byte counts).
  function formatDuration(seconds, lang) {
    var value = Math.max(1, Math.round(seconds));
    var unit = "second";
    if (value >= 5400) {
      value = Math.round(value / 3600);
      unit = "hour";
    } else if (value >= 90) {
      value = Math.round(value / 60);
      unit = "minute";
    }
    try {
      return numberFormat(lang, { style: "unit", unit: unit, unitDisplay: "long" }).format(value);
    } catch (e) {
      return value + " " + unit.charAt(0);
    }
  }

  // -- the server's type rule ------------------------------------------------------------------
  // buckets.signing.content_types.signed_content_type, step by step, with the data the server
  // renders into data-type-rules (buckets.signing.content_types.type_rules): one rule, so the
  // script refuses exactly what the signing view refuses. Tests compare both over a matrix of
  // types and patterns.

  function normalizeType(value, rules) {
    if (typeof value !== "string" || value.length > rules.maxLength) {
      return null;
    }
    var start = 0;
    var end = value.length;
    while (start < end && rules.whitespace.indexOf(value.charAt(start)) !== -1) {
      start += 1;
    }
    while (end > start && rules.whitespace.indexOf(value.charAt(end - 1)) !== -1) {
      end -= 1;
    }
    var match = new RegExp("^(?:" + rules.syntax + ")$", "i").exec(value.slice(start, end));
    if (!match) {
      return null;
    }
    var essence = match[1].toLowerCase();
    return match[2] ? essence + "; charset=" + match[2].toLowerCase() : essence;
  }

  function scriptCapable(essence, rules) {
    return (
      rules.scriptCapable.indexOf(essence) !== -1 ||
      rules.scriptCapableSuffixes.some(function (suffix) {
        return essence.slice(-suffix.length) === suffix;
      })
    );
  }

  // The type an upload declared as `value` is signed as, or null when the server refuses it.
  function signedType(value, rules) {
    var normalized = normalizeType(value, rules);
    if (normalized === null) {
      return null;
    }
    var essence = normalized.split(";")[0];
    var shape = new RegExp("^(?:" + rules.signable + ")$").exec(essence);
    var itself =
      !!shape &&
      rules.topLevel.indexOf(shape[1]) !== -1 &&
      rules.sniffed.indexOf(essence) === -1 &&
      rules.runnable.indexOf(essence) === -1;
    var inert = itself && !scriptCapable(essence, rules);
    if (rules.accept === null) {
      return inert ? normalized : rules.opaque;
    }
    for (var i = 0; i < rules.accept.length; i++) {
      var pattern = rules.accept[i];
      if (pattern === essence && itself) {
        return normalized;
      }
      if (pattern.slice(-2) === "/*" && essence.indexOf(pattern.slice(0, -1)) === 0 && inert) {
        return normalized;
      }
    }
    return null;
  }

  function typeAccepted(file, rules) {
    if (!rules || !file.type) {
      return true; // no rule (an older template) or no type: the server decides, from the name
    }
    return signedType(file.type, rules) !== null;
  }

  function readRules(root) {
    try {
      var rules = JSON.parse(root.getAttribute("data-type-rules") || "null");
      return rules && typeof rules === "object" ? rules : null;
    } catch (e) {
      return null;
    }
  }

  function flattenErrors(data) {
    var messages = [];
    if (data && typeof data === "object") {
      Object.keys(data).forEach(function (key) {
        var value = data[key];
        (Array.isArray(value) ? value : [value]).forEach(function (item) {
          if (typeof item === "string" && item) {
            messages.push(item);
          } else if (item && typeof item.message === "string") {
            messages.push(item.message);
          }
        });
      });
    }
    return messages.join(" ");
  }

  function s3ErrorCode(text) {
    if (!text) {
      return "";
    }
    try {
      var xml = new DOMParser().parseFromString(text, "application/xml");
      var node = xml.getElementsByTagName("Code")[0];
      return node ? node.textContent.trim() : "";
    } catch (e) {
      return "";
    }
  }

  function isHidden(element) {
    return !element || !element.isConnected || !!element.closest("[hidden]");
  }

  // retry: the person may try again. transient: worth retrying by itself (a lost
  // connection, a 5xx); gone: the multipart upload no longer exists on S3.
  function UploadError(message, retry, transient) {
    this.message = message;
    this.retry = !!retry;
    this.transient = !!transient;
    this.gone = false;
  }

  function readMultipart(root) {
    try {
      var config = JSON.parse(root.getAttribute("data-multipart") || "null");
      return config && typeof config === "object" && config.create ? config : null;
    } catch (e) {
      return null;
    }
  }

  // A wait between retries: doubling from one second up to 30 s, with jitter.
  function backoff(failures) {
    var base = Math.min(30000, 1000 * Math.pow(2, Math.max(0, failures - 1)));
    return base / 2 + Math.random() * (base / 2);
  }

  // Milliseconds a pre-signed URL stays valid (its X-Amz-Expires), 5 minutes if unsaid.
  function urlLifetime(url) {
    try {
      var seconds = parseInt(new URL(url, location.href).searchParams.get("X-Amz-Expires") || "", 10);
      return seconds > 0 ? seconds * 1000 : 300000;
    } catch (e) {
      return 300000;
    }
  }

  // -- the record of an unfinished multipart upload (localStorage) -------------------------
  // Keyed by the field and the file's name, size and modification time: the same file
  // chosen again (after a reload) for the same field resumes; the server has the last word
  // (the parts it lists, and 403/404 for an upload that is not this person's or is gone).

  function recordKey(file, slot) {
    return RECORD_PREFIX + JSON.stringify([String(slot || ""), file.name, file.size, file.lastModified]);
  }

  function loadRecord(key, file) {
    try {
      var record = JSON.parse(window.localStorage.getItem(key) || "null");
      if (
        record &&
        typeof record.key === "string" &&
        typeof record.uploadId === "string" &&
        typeof record.token === "string" &&
        record.size === file.size &&
        record.partSize > 0 &&
        record.partCount === Math.ceil(file.size / record.partSize) &&
        Date.now() - record.created < RECORD_MAX_AGE
      ) {
        return record;
      }
    } catch (e) {
      // no storage (private mode) or a garbled record: start afresh
    }
    dropRecord(key);
    return null;
  }

  function saveRecord(key, record) {
    try {
      window.localStorage.setItem(key, JSON.stringify(record));
    } catch (e) {
      // no storage: the upload simply cannot resume after a reload
    }
  }

  function dropRecord(key) {
    try {
      window.localStorage.removeItem(key);
    } catch (e) {
      // nothing kept
    }
  }

  // Bytes a second over the last few seconds, from (time, bytes sent) samples.
  function Meter(already) {
    this.samples = [[Date.now(), already]];
  }

  Meter.prototype.speed = function (loaded) {
    var now = Date.now();
    this.samples.push([now, loaded]);
    while (this.samples.length > 2 && now - this.samples[1][0] >= 8000) {
      this.samples.shift();
    }
    var first = this.samples[0];
    var seconds = (now - first[0]) / 1000;
    return seconds >= 0.5 ? Math.max(0, (loaded - first[1]) / seconds) : 0;
  };

  function Cancelled() {}

  // -- forms: block submission while an upload is in flight ---------------------------------

  function formBusy(form) {
    var roots = form.querySelectorAll(SELECTOR);
    for (var i = 0; i < roots.length; i++) {
      var widget = instances.get(roots[i]);
      if (widget && widget.busy) {
        return widget;
      }
    }
    return null;
  }

  function updateForm(form) {
    if (!form) {
      return;
    }
    var busy = !!formBusy(form);
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!element.matches(SUBMITTERS) || (element.type !== "submit" && element.type !== "image")) {
        return;
      }
      if (busy && !element.disabled) {
        element.disabled = true;
        element.setAttribute("data-s3file-disabled", "");
      } else if (!busy && element.hasAttribute("data-s3file-disabled")) {
        element.disabled = false;
        element.removeAttribute("data-s3file-disabled");
      }
    });
    if (busy) {
      form.setAttribute("aria-busy", "true");
    } else {
      form.removeAttribute("aria-busy");
    }
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var widget = form instanceof HTMLFormElement ? formBusy(form) : null;
      if (widget) {
        event.preventDefault();
        event.stopImmediatePropagation();
        widget.notice(widget.text("busy"));
      }
    },
    true
  );

  // Enter in a field submits a form only through an enabled submit button: while an upload
  // runs they are disabled, so the browser would do nothing, silently. Say why instead.
  document.addEventListener(
    "keydown",
    function (event) {
      var field = event.target;
      if (event.key !== "Enter" || event.defaultPrevented || !field || !field.form) {
        return;
      }
      if (field.matches("textarea, button, select, [contenteditable], input[type='button'], input[type='reset']")) {
        return;
      }
      var widget = formBusy(field.form);
      if (widget) {
        event.preventDefault();
        widget.notice(widget.text("busy"));
      }
    },
    true
  );

  // -- one widget -------------------------------------------------------------------------

  function Widget(root) {
    var self = this;
    this.root = root;
    this.hidden = root.querySelector("input[type='hidden']");
    this.input = root.querySelector(".s3file-input");
    this.current = root.querySelector(".s3file-current");
    this.link = root.querySelector(".s3file-link");
    this.drop = root.querySelector(".s3file-drop");
    this.progressBox = root.querySelector(".s3file-progress");
    this.progressName = root.querySelector(".s3file-progress-name");
    this.progress = root.querySelector("progress");
    this.percent = root.querySelector(".s3file-percent");
    this.detail = root.querySelector(".s3file-detail");
    this.cancelButton = root.querySelector(".s3file-cancel");
    this.removeButton = root.querySelector(".s3file-remove"); // none on a required field
    this.removedBox = root.querySelector(".s3file-removed");
    this.removedText = root.querySelector(".s3file-removed-text");
    this.undoButton = root.querySelector(".s3file-undo");
    this.replaceButton = root.querySelector(".s3file-replace");
    this.retryButton = root.querySelector(".s3file-retry");
    this.status = root.querySelector(".s3file-status");
    this.error = root.querySelector(".s3file-error");
    try {
      this.messages = JSON.parse(root.getAttribute("data-messages") || "{}");
    } catch (e) {
      this.messages = {};
    }
    // The language Django rendered the widget in (numbers and byte counts follow it).
    this.lang = usableLocale(root.getAttribute("data-lang") || document.documentElement.lang);
    this.busy = false;
    this.attempt = null;
    this.lastFile = null;
    this.objectUrl = null;
    // The file a Remove took away, until the form is saved: the undo brings it back. The
    // server renders one after a failed save (data-previous, the link still showing it).
    this.previous = null;
    var previous = root.getAttribute("data-previous");
    if (previous && this.hidden && !this.hidden.value) {
      this.previous = this.snapshot(previous);
    }
    this.form = this.hidden ? this.hidden.form : root.closest("form");

    this.input.addEventListener("change", function () {
      var files = self.input.files;
      var file = files && files.length ? files[0] : null;
      self.input.value = ""; // choosing the same file again must fire "change" again
      if (file) {
        self.start(file);
      }
    });
    this.cancelButton.addEventListener("click", function () {
      self.cancel();
    });
    if (this.removeButton) {
      this.removeButton.addEventListener("click", function () {
        self.remove();
      });
    }
    if (this.undoButton) {
      this.undoButton.addEventListener("click", function () {
        self.undo();
      });
    }
    this.replaceButton.addEventListener("click", function () {
      self.input.click();
    });
    this.retryButton.addEventListener("click", function () {
      if (self.lastFile) {
        self.start(self.lastFile);
      }
    });
    root.addEventListener("dragover", function (event) {
      if (self.carriesFiles(event)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
        root.classList.add("s3file--dragover");
      }
    });
    root.addEventListener("dragleave", function (event) {
      if (!root.contains(event.relatedTarget)) {
        root.classList.remove("s3file--dragover");
      }
    });
    root.addEventListener("drop", function (event) {
      if (!self.carriesFiles(event)) {
        return;
      }
      event.preventDefault();
      root.classList.remove("s3file--dragover");
      var files = event.dataTransfer.files;
      if (files.length !== 1) {
        self.fail(new UploadError(self.text("one_file"), false));
      } else {
        self.start(files[0]);
      }
    });
    this.render();
    root.classList.add("s3file--ready");
  }

  Widget.prototype.text = function (key, values) {
    return interpolate(this.messages[key] || key, values || {});
  };

  Widget.prototype.emit = function (name, detail) {
    this.root.dispatchEvent(new CustomEvent("s3file:" + name, { bubbles: true, detail: detail || {} }));
  };

  Widget.prototype.carriesFiles = function (event) {
    if (this.input.disabled) {
      return false;
    }
    var types = event.dataTransfer ? event.dataTransfer.types : null;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  };

  // Show the part of the widget that matches its state; keep keyboard focus somewhere useful.
  Widget.prototype.render = function () {
    var hadFocus = this.root.contains(document.activeElement);
    var filled = !!(this.hidden && this.hidden.value);
    var state = this.busy ? "uploading" : filled ? "filled" : "empty";
    this.root.setAttribute("data-state", state);
    this.current.hidden = state !== "filled";
    this.drop.hidden = state !== "empty";
    this.progressBox.hidden = state !== "uploading";
    if (this.removedBox) {
      this.removedBox.hidden = !(state === "empty" && this.previous);
      if (this.previous) {
        this.removedText.textContent = this.text("removed", { name: this.previous.text });
      }
    }
    this.input.tabIndex = state === "empty" ? 0 : -1;
    if (this.busy) {
      this.root.setAttribute("aria-busy", "true");
    } else {
      this.root.removeAttribute("aria-busy");
    }
    updateForm(this.form);
    var active = document.activeElement;
    if (hadFocus && (isHidden(active) || !this.root.contains(active) || active.tabIndex < 0)) {
      var target =
        state === "uploading" ? this.cancelButton : state === "filled" ? this.replaceButton : this.input;
      target.focus();
    }
  };

  Widget.prototype.say = function (message) {
    this.status.textContent = message || "";
  };

  // A message that must be seen even while the upload runs (the status is then only for
  // screen readers): why the form was not sent.
  Widget.prototype.notice = function (message) {
    this.error.textContent = message;
  };

  Widget.prototype.clearMessages = function () {
    this.error.textContent = "";
    this.retryButton.hidden = true;
    this.root.classList.remove("s3file--error");
    this.say("");
  };

  Widget.prototype.fail = function (error) {
    this.busy = false;
    this.attempt = null;
    this.render();
    this.say("");
    this.error.textContent = error.message; // text, never markup: file names can be anything
    this.root.classList.add("s3file--error");
    this.retryButton.hidden = !(error.retry && this.lastFile);
    this.emit("error", { message: error.message });
  };

  // The client-side checks: fast messages, nothing sent. The signed policy still decides.
  // The multipart settings when this file goes up in parts, else null (one POST).
  Widget.prototype.multipartFor = function (file) {
    var config = readMultipart(this.root);
    return config && config.threshold > 0 && file.size > config.threshold ? config : null;
  };

  Widget.prototype.check = function (file, multipart) {
    var limit = multipart
      ? multipart.maxSize
      : parseInt(this.root.getAttribute("data-max-size") || "", 10);
    var accept = (this.root.getAttribute("data-accept") || "").split(",").filter(function (p) {
      return p.trim();
    });
    var sizes = this.messages.sizes;
    if (!typeAccepted(file, readRules(this.root))) {
      return new UploadError(
        this.text("wrong_type", {
          name: file.name,
          type: file.type || this.text("unknown_type"),
          accepted: this.messages.accepted || accept.join(", "),
        }),
        false
      );
    }
    if (limit > 0 && file.size > limit) {
      var size = formatSize(file.size, sizes, false, this.lang);
      var most = formatSize(limit, sizes, false, this.lang);
      if (size === most) {
        // "1.0 MiB is too large, the limit is 1.0 MiB" helps nobody: count the bytes (as the
        // server does, buckets.uploads.wording.size_pair).
        size = formatSize(file.size, sizes, true, this.lang);
        most = formatSize(limit, sizes, true, this.lang);
      }
      return new UploadError(this.text("too_large", { name: file.name, size: size, limit: most }), false);
    }
    if (file.size === 0) {
      return new UploadError(this.text("empty", { name: file.name }), false);
    }
    return null;
  };

  Widget.prototype.start = function (file) {
    var self = this;
    if (this.busy) {
      this.abortAttempt();
    }
    this.clearMessages();
    this.lastFile = file;
    var multipart = this.multipartFor(file);
    var problem = this.check(file, multipart);
    if (problem) {
      this.fail(problem);
      return;
    }
    var attempt = { controller: new AbortController(), xhr: null, waits: [], multipart: null };
    this.attempt = attempt;
    this.busy = true;
    this.progressName.textContent = file.name;
    this.progress.removeAttribute("value"); // indeterminate while the upload is being signed
    this.percent.textContent = "";
    if (this.detail) {
      this.detail.textContent = "";
    }
    this.announced = 0;
    this.progressDrawn = 0;
    this.meter = new Meter(0);
    this.stalled = false;
    this.render();
    this.say(this.text("uploading", { name: file.name }));
    this.emit("start", { file: file });
    var upload = multipart
      ? this.sendInParts(file, multipart, attempt)
      : this.sign(file, attempt).then(function (signed) {
          return self.send(file, signed, attempt).then(function () {
            return self.postedName(signed);
          });
        });
    upload.then(
        function (name) {
          if (self.attempt === attempt) {
            self.succeed(file, name);
          }
        },
        function (error) {
          if (self.attempt !== attempt || error instanceof Cancelled) {
            return;
          }
          self.fail(error instanceof UploadError ? error : new UploadError(String(error), true));
        }
      );
  };

  Widget.prototype.csrfToken = function () {
    var scope = this.form || document;
    var input =
      scope.querySelector("input[name='csrfmiddlewaretoken']") ||
      document.querySelector("input[name='csrfmiddlewaretoken']");
    if (input && input.value) {
      return input.value;
    }
    return readCookie(this.root.getAttribute("data-csrf-cookie") || "csrftoken");
  };

  Widget.prototype.sign = function (file, attempt) {
    var self = this;
    var url = this.root.getAttribute("data-signed-url");
    if (!url) {
      return Promise.reject(new UploadError(this.text("server_error", { status: 404 }), false));
    }
    var body = { key: file.name, size: file.size };
    var token = this.root.getAttribute("data-token");
    if (token) {
      body.field = token;
    }
    if (file.type) {
      body.content_type = file.type;
    }
    return this.call(attempt, "POST", url, body).then(function (data) {
      if (data && data.url && data.fields) {
        return data;
      }
      throw self.answerError(200, data);
    });
  };

  Widget.prototype.jsonHeaders = function () {
    var headers = {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-Requested-With": "XMLHttpRequest",
    };
    var csrf = this.csrfToken();
    if (csrf) {
      headers[this.root.getAttribute("data-csrf-header") || "X-CSRFToken"] = csrf;
    }
    return headers;
  };

  // What an answer of our server other than success means, in words.
  Widget.prototype.answerError = function (status, data) {
    var detail = flattenErrors(data);
    if (status === 403) {
      // Our views answer JSON, CSRF failures included; an HTML 403 (Django's CSRF
      // failure page, from a middleware or proxy in front) means the token.
      return new UploadError(data ? detail || this.text("forbidden") : this.text("csrf"), false);
    }
    if (status === 400 && detail) {
      return new UploadError(this.text("refused", { reason: detail }), false);
    }
    var transient = status >= 500 || status === 408 || status === 429;
    var error = new UploadError(this.text("server_error", { status: status }), true, transient);
    error.status = status;
    return error;
  };

  // One JSON call to our server (body: an object, or null); its answer (null for 204).
  Widget.prototype.call = function (attempt, method, url, body) {
    var self = this;
    if (this.attempt !== attempt) {
      return Promise.reject(new Cancelled());
    }
    var options = {
      method: method,
      headers: this.jsonHeaders(),
      credentials: "same-origin",
      signal: attempt.controller.signal,
    };
    if (body) {
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(
      function (response) {
        var isJson = (response.headers.get("Content-Type") || "").indexOf("json") !== -1;
        var data = isJson ? response.json().catch(function () {
          return null;
        }) : Promise.resolve(null);
        return data.then(function (data) {
          if (response.ok) {
            return data;
          }
          throw self.answerError(response.status, data);
        });
      },
      function (error) {
        if (error && error.name === "AbortError") {
          throw new Cancelled();
        }
        throw new UploadError(self.text("server_unreachable"), true, true);
      }
    );
  };

  // -- multipart uploads -------------------------------------------------------------------

  // A promise settled after `ms`, or rejected (Cancelled) when the attempt ends first.
  Widget.prototype.pause = function (attempt, ms) {
    return this.waitFor(attempt, function (done) {
      var timer = setTimeout(done, ms);
      return function () {
        clearTimeout(timer);
      };
    });
  };

  // A promise settled when the browser is online again (at once if it is).
  Widget.prototype.untilOnline = function (attempt) {
    if (navigator.onLine !== false) {
      return this.attempt === attempt ? Promise.resolve() : Promise.reject(new Cancelled());
    }
    return this.waitFor(attempt, function (done) {
      window.addEventListener("online", done);
      return function () {
        window.removeEventListener("online", done);
      };
    });
  };

  Widget.prototype.waitFor = function (attempt, arm) {
    var self = this;
    return new Promise(function (resolve, reject) {
      if (self.attempt !== attempt) {
        reject(new Cancelled());
        return;
      }
      var disarm = null;
      var entry = function () {
        disarm();
        reject(new Cancelled());
      };
      disarm = arm(function () {
        disarm();
        attempt.waits.splice(attempt.waits.indexOf(entry), 1);
        resolve();
      });
      attempt.waits.push(entry);
    });
  };

  // task() again while it fails transiently: offline, after the connection is back;
  // online, after a backoff, up to MAX_FAILURES times.
  Widget.prototype.persist = function (attempt, task) {
    var self = this;
    var failures = 0;
    function run() {
      return task().catch(function (error) {
        if (!(error instanceof UploadError) || !error.transient || self.attempt !== attempt) {
          throw error;
        }
        if (navigator.onLine === false) {
          self.say(self.text("offline"));
          return self.untilOnline(attempt).then(run);
        }
        failures += 1;
        if (failures >= MAX_FAILURES) {
          throw error;
        }
        self.say(self.text("retrying"));
        return self.pause(attempt, backoff(failures)).then(run);
      });
    }
    return run();
  };

  Widget.prototype.sendInParts = function (file, config, attempt) {
    var self = this;
    var state = {
      config: config,
      record: recordKey(file, config.slot),
      upload: null,
      urls: {},
      signing: {},
      xhrs: {},
    };
    attempt.multipart = state;
    var earlier = loadRecord(state.record, file);
    var begin;
    if (earlier) {
      state.upload = earlier;
      this.say(this.text("resuming", { name: file.name }));
      begin = this.persist(attempt, function () {
        return self.heldParts(state, attempt);
      }).catch(function (error) {
        if (error instanceof Cancelled || self.attempt !== attempt || error.transient) {
          throw error;
        }
        // Not this person's any more, or gone from S3: start afresh.
        dropRecord(state.record);
        state.upload = null;
        return self.createUpload(file, state, attempt);
      });
    } else {
      begin = this.createUpload(file, state, attempt);
    }
    return begin
      .then(function (held) {
        return self.putParts(file, state, held, attempt);
      })
      .then(function () {
        var upload = state.upload;
        return self.persist(attempt, function () {
          return self
            .call(attempt, "POST", config.complete, {
              key: upload.key,
              uploadId: upload.uploadId,
              token: upload.token,
            })
            .catch(function (error) {
              throw self.goneIfMissing(error);
            });
        });
      })
      .then(
        function (data) {
          dropRecord(state.record);
          return String((data && data.key) || state.upload.key);
        },
        function (error) {
          if (error && error.gone) {
            dropRecord(state.record);
          }
          throw error;
        }
      );
  };

  // Create the upload on S3 (through our server): resolves with the parts held (none).
  Widget.prototype.createUpload = function (file, state, attempt) {
    var self = this;
    var body = { key: file.name, size: file.size };
    var token = this.root.getAttribute("data-token");
    if (token) {
      body.field = token;
    }
    if (file.type) {
      body.content_type = file.type;
    }
    return this.persist(attempt, function () {
      return self.call(attempt, "POST", state.config.create, body);
    }).then(function (data) {
      if (!data || !data.uploadId || !data.key || !data.token || !(data.partSize > 0)) {
        throw self.answerError(200, data);
      }
      state.upload = {
        key: String(data.key),
        uploadId: String(data.uploadId),
        token: String(data.token),
        partSize: data.partSize,
        partCount: data.partCount,
        size: file.size,
        created: Date.now(),
      };
      if (self.attempt !== attempt) {
        self.abortUpload(state); // cancelled while it was being created
        throw new Cancelled();
      }
      saveRecord(state.record, state.upload);
      return [];
    });
  };

  // The parts the bucket holds for this upload: [{PartNumber, Size, ETag}].
  Widget.prototype.heldParts = function (state, attempt) {
    var self = this;
    var upload = state.upload;
    var query = new URLSearchParams({ key: upload.key, uploadId: upload.uploadId, token: upload.token });
    var url = state.config.parts + (state.config.parts.indexOf("?") === -1 ? "?" : "&") + query;
    return this.call(attempt, "GET", url, null).then(
      function (data) {
        return data && Array.isArray(data.parts) ? data.parts : [];
      },
      function (error) {
        if (error instanceof UploadError && !error.transient && !error.retry) {
          error.gone = true; // refused (403): not this person's upload, or changed
        }
        throw self.goneIfMissing(error);
      }
    );
  };

  Widget.prototype.goneIfMissing = function (error) {
    if (error instanceof UploadError && error.status === 404) {
      var gone = new UploadError(this.text("multipart_gone"), true);
      gone.gone = true;
      return gone;
    }
    return error;
  };

  // The length of part n of the upload's plan.
  function partLength(upload, n) {
    return n < upload.partCount ? upload.partSize : upload.size - upload.partSize * (upload.partCount - 1);
  }

  // PUT every part the bucket does not hold yet, PARTS_AT_ONCE at a time.
  Widget.prototype.putParts = function (file, state, held, attempt) {
    var self = this;
    var upload = state.upload;
    var done = {};
    var doneBytes = 0;
    var inflight = {};
    var failures = {};
    var queue = [];
    var running = 0;
    var paused = false;
    var finished = false;

    function markHeld(parts) {
      parts.forEach(function (part) {
        var n = part.PartNumber;
        if (!done[n] && !(n in inflight) && part.Size === partLength(upload, n)) {
          done[n] = true;
          doneBytes += part.Size;
          var at = queue.indexOf(n);
          if (at !== -1) {
            queue.splice(at, 1);
          }
        }
      });
    }

    function report() {
      var loaded = doneBytes;
      Object.keys(inflight).forEach(function (n) {
        loaded += inflight[n];
      });
      self.showProgress(Math.min(loaded, upload.size), upload.size);
    }

    for (var n = 1; n <= upload.partCount; n++) {
      queue.push(n);
    }
    markHeld(held);
    this.meter = new Meter(doneBytes);
    report();

    return new Promise(function (resolve, reject) {
      function stop(error) {
        if (!finished) {
          finished = true;
          self.stopParts(state);
          reject(error);
        }
      }

      function next() {
        if (finished) {
          return;
        }
        if (self.attempt !== attempt) {
          stop(new Cancelled());
          return;
        }
        if (!queue.length && running === 0) {
          finished = true;
          resolve();
          return;
        }
        while (!paused && running < PARTS_AT_ONCE && queue.length) {
          launch(queue.shift());
        }
        if (!paused) {
          self.signAhead(state, queue, attempt);
        }
      }

      function resync() {
        // Back online: ask the bucket what it holds, then go on with the rest.
        self.persist(attempt, function () {
          return self.heldParts(state, attempt);
        }).then(
          function (parts) {
            paused = false;
            markHeld(parts);
            self.stalled = false;
            self.meter = new Meter(doneBytes); // the speed from now on
            report();
            self.say(self.text("uploading", { name: file.name }));
            next();
          },
          stop
        );
      }

      function launch(n) {
        running += 1;
        inflight[n] = 0;
        self
          .partUrl(state, n, queue, attempt)
          .then(function (url) {
            return self.putPart(file, state, n, url, attempt, function (loaded) {
              if (n in inflight) {
                inflight[n] = loaded;
                report();
              }
            });
          })
          .then(
            function () {
              running -= 1;
              delete inflight[n];
              if (!done[n]) {
                done[n] = true;
                doneBytes += partLength(upload, n);
              }
              failures[n] = 0;
              report();
              next();
            },
            function (error) {
              running -= 1;
              delete inflight[n];
              report();
              if (error instanceof Cancelled || self.attempt !== attempt) {
                stop(new Cancelled());
                return;
              }
              error = self.goneIfMissing(error);
              if (!(error instanceof UploadError) || !error.transient) {
                stop(error);
                return;
              }
              if (navigator.onLine === false) {
                queue.unshift(n);
                if (!paused) {
                  paused = true;
                  self.stalled = true; // no speed or time left while nothing can move
                  report();
                  self.say(self.text("offline"));
                  self.untilOnline(attempt).then(resync, stop);
                }
                return;
              }
              failures[n] = (failures[n] || 0) + 1;
              if (failures[n] >= MAX_FAILURES || (error.expired && failures[n] >= 2)) {
                stop(error);
                return;
              }
              if (error.expired) {
                delete state.urls[n];
              }
              self.say(self.text("retrying"));
              // This part again after a backoff; the others go on meanwhile.
              self.pause(attempt, backoff(failures[n])).then(function () {
                queue.unshift(n);
                next();
              }, stop);
              next();
            }
          );
      }

      next();
    });
  };

  // Whether part n has a URL that stays valid for another minute at least.
  function freshUrl(state, n, now) {
    var cached = state.urls[n];
    return !!cached && cached.expiresAt - now > 60000;
  }

  // Sign the next parts before their turn: when one of the next SIGN_BATCH parts has no URL
  // yet, a batch is asked for from it, while the parts in flight still run (a part never
  // waits for a call to the site unless the site is slower than the bucket).
  Widget.prototype.signAhead = function (state, queue, attempt) {
    var now = Date.now();
    for (var i = 0; i < queue.length && i < SIGN_BATCH; i++) {
      var n = queue[i];
      if (!freshUrl(state, n, now) && !state.signing[n]) {
        this.partUrl(state, n, queue, attempt); // its failure is met again when the part runs
        return;
      }
    }
  };

  // A URL for part n: signed earlier and still valid, or signed now with the next parts.
  Widget.prototype.partUrl = function (state, n, queue, attempt) {
    var self = this;
    var now = Date.now();
    if (freshUrl(state, n, now)) {
      return Promise.resolve(state.urls[n].url);
    }
    if (state.signing[n]) {
      return state.signing[n];
    }
    var batch = [n];
    for (var i = 0; i < queue.length && batch.length < SIGN_BATCH; i++) {
      var m = queue[i];
      if (!freshUrl(state, m, now) && !state.signing[m] && batch.indexOf(m) === -1) {
        batch.push(m);
      }
    }
    var upload = state.upload;
    var request = this.persist(attempt, function () {
      return self.call(attempt, "POST", state.config.sign, {
        key: upload.key,
        uploadId: upload.uploadId,
        token: upload.token,
        parts: batch,
      });
    }).then(
      function (data) {
        var signedAt = Date.now();
        batch.forEach(function (m) {
          delete state.signing[m];
          var url = data && data.urls ? data.urls[String(m)] : null;
          if (url) {
            state.urls[m] = { url: url, expiresAt: signedAt + urlLifetime(url) };
          }
        });
      },
      function (error) {
        batch.forEach(function (m) {
          delete state.signing[m];
        });
        throw error;
      }
    );
    batch.forEach(function (m) {
      var promise = request.then(function () {
        if (!state.urls[m]) {
          throw new UploadError(self.text("server_error", { status: 200 }), true, true);
        }
        return state.urls[m].url;
      });
      promise.catch(function () {}); // a part asked for ahead may never be waited for
      state.signing[m] = promise;
    });
    return state.signing[n];
  };

  // PUT part n (a slice of the file: the browser reads it from disk as it sends).
  Widget.prototype.putPart = function (file, state, n, url, attempt, onProgress) {
    var self = this;
    var upload = state.upload;
    var start = (n - 1) * upload.partSize;
    var end = start + partLength(upload, n);
    return new Promise(function (resolve, reject) {
      if (self.attempt !== attempt) {
        reject(new Cancelled());
        return;
      }
      var xhr = new XMLHttpRequest();
      state.xhrs[n] = xhr;
      xhr.open("PUT", url);
      xhr.upload.addEventListener("progress", function (event) {
        if (self.attempt === attempt) {
          onProgress(event.loaded);
        }
      });
      xhr.addEventListener("load", function () {
        delete state.xhrs[n];
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve();
          return;
        }
        var code = s3ErrorCode(xhr.responseText);
        var error;
        if (code === "NoSuchUpload" || xhr.status === 404) {
          error = new UploadError(self.text("multipart_gone"), true);
          error.gone = true;
        } else {
          error = self.storageError(xhr.status, xhr.responseText);
          // A 403 is most often an expired URL: signed again, it is tried once more.
          error.expired = xhr.status === 403;
          error.transient =
            error.expired || xhr.status >= 500 || xhr.status === 408 || xhr.status === 429;
        }
        reject(error);
      });
      xhr.addEventListener("error", function () {
        delete state.xhrs[n];
        reject(new UploadError(self.text("network"), true, true));
      });
      xhr.addEventListener("abort", function () {
        delete state.xhrs[n];
        reject(new Cancelled());
      });
      xhr.send(file.slice(start, end));
    });
  };

  // Stop every part in flight (the upload itself stays, to be resumed or aborted).
  Widget.prototype.stopParts = function (state) {
    Object.keys(state.xhrs).forEach(function (n) {
      var xhr = state.xhrs[n];
      delete state.xhrs[n];
      xhr.abort();
    });
  };

  // Abort the upload on S3 (through our server) and forget its record.
  Widget.prototype.abortUpload = function (state) {
    var upload = state.upload;
    dropRecord(state.record);
    this.stopParts(state);
    if (!upload) {
      return;
    }
    var self = this;
    fetch(state.config.abort, {
      method: "POST",
      headers: this.jsonHeaders(),
      credentials: "same-origin",
      keepalive: true,
      body: JSON.stringify({ key: upload.key, uploadId: upload.uploadId, token: upload.token }),
    }).then(
      function () {
        self.emit("aborted", { key: upload.key });
      },
      function () {
        // the bucket's lifecycle rule and buckets_cleanup remove what is left
      }
    );
  };

  Widget.prototype.send = function (file, signed, attempt) {
    var self = this;
    return new Promise(function (resolve, reject) {
      if (self.attempt !== attempt) {
        reject(new Cancelled());
        return;
      }
      var data = new FormData();
      Object.keys(signed.fields).forEach(function (name) {
        data.append(name, signed.fields[name]);
      });
      data.append("file", file); // last: S3 ignores every field after the file
      var xhr = new XMLHttpRequest();
      attempt.xhr = xhr;
      xhr.open("POST", signed.url);
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable && event.total > 0 && self.attempt === attempt) {
          self.showProgress(event.loaded, event.total);
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve();
        } else {
          reject(self.storageError(xhr.status, xhr.responseText));
        }
      });
      xhr.addEventListener("error", function () {
        // Status 0: no readable answer. A missing CORS rule looks exactly like this.
        reject(new UploadError(self.text("network"), true));
      });
      xhr.addEventListener("abort", function () {
        reject(new Cancelled());
      });
      xhr.send(data);
    });
  };

  Widget.prototype.storageError = function (status, text) {
    var code = s3ErrorCode(text);
    var known = {
      EntityTooLarge: ["s3_too_large", false],
      EntityTooSmall: ["s3_too_small", false],
      AccessDenied: ["s3_denied", true],
      SignatureDoesNotMatch: ["s3_signature", false],
      InvalidAccessKeyId: ["s3_signature", false],
      ExpiredToken: ["s3_expired", true],
      RequestExpired: ["s3_expired", true],
      NoSuchBucket: ["s3_no_bucket", false],
    }[code];
    if (known) {
      return new UploadError(this.text(known[0]), known[1]);
    }
    return new UploadError(
      this.text("s3_other", { code: code || "?", status: status }),
      status >= 500 || status === 0
    );
  };

  // Progress as it comes: drawn now, or with the newest figures when PROGRESS_EVERY is up.
  Widget.prototype.showProgress = function (loaded, total) {
    var self = this;
    var attempt = this.attempt;
    var wait = PROGRESS_EVERY - (Date.now() - (this.progressDrawn || 0));
    this.progressLatest = [loaded, total];
    if (loaded >= total || wait <= 0) {
      this.drawProgress(loaded, total);
    } else if (!this.progressTimer) {
      this.progressTimer = setTimeout(function () {
        self.progressTimer = null;
        if (self.attempt === attempt && self.busy) {
          self.drawProgress(self.progressLatest[0], self.progressLatest[1]);
        }
      }, wait);
    }
  };

  Widget.prototype.drawProgress = function (loaded, total) {
    clearTimeout(this.progressTimer);
    this.progressTimer = null;
    this.progressDrawn = Date.now();
    var percent = Math.min(100, Math.floor((loaded / total) * 100));
    var speed = this.meter ? this.meter.speed(loaded) : 0;
    var secondsLeft = speed > 0 ? (total - loaded) / speed : null;
    this.progress.value = percent;
    this.percent.textContent = percent + "%";
    if (this.detail) {
      var sizes = this.messages.sizes;
      var parts = [
        this.text("progress_detail", {
          done: formatSize(loaded, sizes, false, this.lang),
          total: formatSize(total, sizes, false, this.lang),
        }),
      ];
      if (this.stalled) {
        parts.push(this.text("waiting"));
      } else if (speed > 0) {
        parts.push(this.text("speed", { speed: formatSize(Math.round(speed), sizes, false, this.lang) }));
      }
      if (secondsLeft !== null && loaded < total && !this.stalled) {
        parts.push(this.text("time_left", { time: formatDuration(secondsLeft, this.lang) }));
      }
      this.detail.textContent = parts.join(" · ");
    }
    var quarter = Math.floor(percent / 25);
    if (quarter > this.announced && percent < 100) {
      this.announced = quarter;
      this.say(this.text("progress", { percent: quarter * 25 }));
    }
    this.emit("progress", {
      percent: percent,
      loaded: loaded,
      total: total,
      speed: speed,
      secondsLeft: secondsLeft,
    });
  };

  // The storage name of a POST upload: its key without the storage's location.
  Widget.prototype.postedName = function (signed) {
    var key = String(signed.fields.key || "");
    var prefix = this.root.getAttribute("data-key-prefix") || "";
    return prefix && key.indexOf(prefix) === 0 ? key.slice(prefix.length) : key;
  };

  Widget.prototype.succeed = function (file, name) {
    this.busy = false;
    this.attempt = null;
    this.lastFile = null;
    this.error.textContent = ""; // a notice given meanwhile is answered
    this.hidden.value = name;
    this.hidden.dispatchEvent(new Event("change", { bubbles: true }));
    // The link opens the file the person just chose: the object itself may be private.
    // A blob: URL belongs to this page's origin, so only types that cannot run script are
    // opened in place; anything else (HTML, SVG, XML...) is offered as a download.
    if (this.objectUrl) {
      URL.revokeObjectURL(this.objectUrl);
    }
    var inert = INERT_TYPE.test(file.type || "");
    this.objectUrl = URL.createObjectURL(
      inert ? file : new Blob([file], { type: "application/octet-stream" })
    );
    this.link.href = this.objectUrl;
    if (inert) {
      this.link.removeAttribute("download");
    } else {
      this.link.setAttribute("download", file.name);
    }
    this.link.textContent = file.name;
    this.progress.value = 100;
    this.percent.textContent = "100%";
    this.render();
    this.say(this.text("uploaded", { name: file.name }));
    this.emit("uploaded", { name: name, file: file });
  };

  Widget.prototype.abortAttempt = function () {
    var attempt = this.attempt;
    this.attempt = null;
    this.busy = false;
    if (attempt) {
      if (attempt.controller) {
        attempt.controller.abort();
      }
      if (attempt.xhr) {
        attempt.xhr.abort();
      }
      attempt.waits.slice().forEach(function (cancel) {
        cancel();
      });
      if (attempt.multipart) {
        // A person's choice (cancel, another file, remove, a deleted row): gone on S3 too.
        this.abortUpload(attempt.multipart);
      }
    }
  };

  Widget.prototype.cancel = function () {
    if (!this.busy) {
      return;
    }
    this.abortAttempt();
    this.clearMessages();
    this.render();
    this.say(this.text(this.hidden.value ? "cancelled_kept" : "cancelled"));
    this.emit("cancelled");
  };

  // What the link shows for the current value, to show it again after an undo.
  Widget.prototype.snapshot = function (value) {
    return {
      value: value,
      href: this.link.getAttribute("href"),
      download: this.link.getAttribute("download"),
      text: this.link.textContent,
      objectUrl: this.objectUrl,
    };
  };

  Widget.prototype.remove = function () {
    this.abortAttempt();
    this.clearMessages();
    if (this.hidden.value) {
      if (this.previous && this.previous.objectUrl && this.previous.objectUrl !== this.objectUrl) {
        URL.revokeObjectURL(this.previous.objectUrl);
      }
      this.previous = this.snapshot(this.hidden.value);
      this.objectUrl = null; // kept by the snapshot, for the undo
    }
    this.hidden.value = "";
    this.hidden.dispatchEvent(new Event("change", { bubbles: true }));
    this.render();
    if (this.previous) {
      this.say(this.text("removed", { name: this.previous.text }));
    }
    this.emit("removed");
  };

  // Bring back the file a Remove took away (the form not saved yet).
  Widget.prototype.undo = function () {
    var previous = this.previous;
    if (!previous || this.busy) {
      return;
    }
    this.previous = null;
    this.clearMessages();
    if (this.objectUrl && this.objectUrl !== previous.objectUrl) {
      URL.revokeObjectURL(this.objectUrl);
    }
    this.objectUrl = previous.objectUrl;
    if (previous.href) {
      this.link.setAttribute("href", previous.href);
    } else {
      this.link.removeAttribute("href");
    }
    if (previous.download) {
      this.link.setAttribute("download", previous.download);
    } else {
      this.link.removeAttribute("download");
    }
    this.link.textContent = previous.text;
    this.hidden.value = previous.value;
    this.hidden.dispatchEvent(new Event("change", { bubbles: true }));
    this.render();
    this.say(this.text("restored", { name: previous.text }));
    this.emit("restored", { name: previous.value });
  };

  // -- discovery ------------------------------------------------------------------------------

  function isTemplateRow(root) {
    var hidden = root.querySelector("input[type='hidden']");
    return (hidden && hidden.name.indexOf("__prefix__") !== -1) || !!root.closest(".empty-form");
  }

  function init(scope) {
    var roots = [];
    if (scope.matches && scope.matches(SELECTOR)) {
      roots.push(scope);
    }
    if (scope.querySelectorAll) {
      roots.push.apply(roots, scope.querySelectorAll(SELECTOR));
    }
    roots.forEach(function (root) {
      if (!instances.has(root) && !isTemplateRow(root) && root.querySelector(".s3file-input")) {
        instances.set(root, new Widget(root));
      }
    });
  }

  function forget(node) {
    if (node.nodeType !== 1) {
      return;
    }
    var roots = node.matches(SELECTOR) ? [node] : Array.prototype.slice.call(node.querySelectorAll(SELECTOR));
    roots.forEach(function (root) {
      var widget = instances.get(root);
      if (widget && !root.isConnected) {
        widget.abortAttempt(); // a deleted inline row must not keep its form blocked
        updateForm(widget.form);
      }
    });
  }

  function start() {
    init(document);
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        if (record.type === "attributes") {
          // A renamed input, or an "empty-form" class taken off a row already in the page.
          init(record.target.closest(SELECTOR) || record.target);
          return;
        }
        record.addedNodes.forEach(function (node) {
          if (node.nodeType === 1) {
            init(node);
          }
        });
        record.removedNodes.forEach(forget);
      });
    }).observe(document.documentElement, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["name", "class"],
    });
  }

  window.djangoBuckets = window.djangoBuckets || {};
  // signedType is exposed for the tests that hold it to the server's rule.
  window.djangoBuckets.uploader = { init: init, version: 1, signedType: signedType };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
