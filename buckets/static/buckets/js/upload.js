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
 * Any failure is said in words and leaves the previous value in place. While an upload is in
 * flight its form cannot be submitted. Widgets added later (admin inlines, formsets) are
 * picked up by a MutationObserver; "__prefix__" template rows are left alone until cloned.
 *
 * Each widget's root element receives bubbling events: s3file:start, s3file:progress
 * (detail.percent), s3file:uploaded (detail.name, detail.file), s3file:error (detail.message),
 * s3file:cancelled and s3file:removed.
 */
(function () {
  "use strict";

  if (window.djangoBuckets && window.djangoBuckets.uploader) {
    return; // the script was included twice (two forms' media on one page)
  }

  var SELECTOR = "[data-s3file]";
  var SUBMITTERS = "button, input[type='submit'], input[type='image']";
  var instances = new WeakMap();
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
      return new Intl.NumberFormat(lang, { style: "unit", unit: "byte", unitDisplay: "long" }).format(
        bytes
      );
    } catch (e) {
      return String(units[0] || "%s B").replace("%s", bytes.toLocaleString(lang));
    }
  }

  // "3.2 MB": units are ["%s B", "%s KB", "%s MB", "%s GB"] (symbols: no plural forms).
  function formatSize(bytes, units, exact, lang) {
    units = units && units.length ? units : ["%s B", "%s KB", "%s MB", "%s GB"];
    if (bytes < 1024 || exact) {
      return formatBytes(bytes, units, lang);
    }
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    var text = value.toLocaleString(lang, {
      maximumFractionDigits: 1,
      minimumFractionDigits: 1,
    });
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

  function UploadError(message, retry) {
    this.message = message;
    this.retry = !!retry;
  }

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
        widget.say(widget.text("busy"));
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
    this.cancelButton = root.querySelector(".s3file-cancel");
    this.removeButton = root.querySelector(".s3file-remove");
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
    this.removeButton.addEventListener("click", function () {
      self.remove();
    });
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
  Widget.prototype.check = function (file) {
    var limit = parseInt(this.root.getAttribute("data-max-size") || "", 10);
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
        // "1.0 MB is too large, the limit is 1.0 MB" helps nobody: count the bytes.
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
    var problem = this.check(file);
    if (problem) {
      this.fail(problem);
      return;
    }
    var attempt = { controller: null, xhr: null };
    this.attempt = attempt;
    this.busy = true;
    this.progressName.textContent = file.name;
    this.progress.removeAttribute("value"); // indeterminate while the upload is being signed
    this.percent.textContent = "";
    this.announced = 0;
    this.render();
    this.say(this.text("uploading", { name: file.name }));
    this.emit("start", { file: file });
    this.sign(file, attempt)
      .then(function (signed) {
        return self.send(file, signed, attempt).then(function () {
          return signed;
        });
      })
      .then(
        function (signed) {
          if (self.attempt === attempt) {
            self.succeed(file, signed);
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
    var headers = {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-Requested-With": "XMLHttpRequest",
    };
    var csrf = this.csrfToken();
    if (csrf) {
      headers[this.root.getAttribute("data-csrf-header") || "X-CSRFToken"] = csrf;
    }
    attempt.controller = new AbortController();
    return fetch(url, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body),
      credentials: "same-origin",
      signal: attempt.controller.signal,
    }).then(
      function (response) {
        var isJson = (response.headers.get("Content-Type") || "").indexOf("json") !== -1;
        var data = isJson ? response.json().catch(function () {
          return null;
        }) : Promise.resolve(null);
        return data.then(function (data) {
          if (response.ok && data && data.url && data.fields) {
            return data;
          }
          var detail = flattenErrors(data);
          if (response.status === 403) {
            // Our view answers JSON, CSRF failures included; an HTML 403 (Django's CSRF
            // failure page, from a middleware or proxy in front) means the token.
            throw new UploadError(data ? detail || self.text("forbidden") : self.text("csrf"), false);
          }
          if (response.status === 400 && detail) {
            throw new UploadError(self.text("refused", { reason: detail }), false);
          }
          throw new UploadError(self.text("server_error", { status: response.status }), true);
        });
      },
      function (error) {
        if (error && error.name === "AbortError") {
          throw new Cancelled();
        }
        throw new UploadError(self.text("server_unreachable"), true);
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

  Widget.prototype.showProgress = function (loaded, total) {
    var percent = Math.min(100, Math.floor((loaded / total) * 100));
    this.progress.value = percent;
    this.percent.textContent = percent + "%";
    var quarter = Math.floor(percent / 25);
    if (quarter > this.announced && percent < 100) {
      this.announced = quarter;
      this.say(this.text("progress", { percent: quarter * 25 }));
    }
    this.emit("progress", { percent: percent, loaded: loaded, total: total });
  };

  Widget.prototype.succeed = function (file, signed) {
    var key = String(signed.fields.key || "");
    var prefix = this.root.getAttribute("data-key-prefix") || "";
    var name = prefix && key.indexOf(prefix) === 0 ? key.slice(prefix.length) : key;
    this.busy = false;
    this.attempt = null;
    this.lastFile = null;
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
    }
  };

  Widget.prototype.cancel = function () {
    if (!this.busy) {
      return;
    }
    this.abortAttempt();
    this.clearMessages();
    this.render();
    this.say(this.text("cancelled"));
    this.emit("cancelled");
  };

  Widget.prototype.remove = function () {
    this.abortAttempt();
    this.clearMessages();
    this.hidden.value = "";
    this.hidden.dispatchEvent(new Event("change", { bubbles: true }));
    if (this.objectUrl) {
      URL.revokeObjectURL(this.objectUrl);
      this.objectUrl = null;
    }
    this.render();
    this.say(this.text("removed"));
    this.emit("removed");
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
