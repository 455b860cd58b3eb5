/* interlock — check the log in the reader's own browser.
 *
 * Recomputes an entry's leaf hash from its bytes (RFC 8785 canonical JSON of
 * {"integrated_at", "envelope"}), walks its RFC 9162 inclusion proof with WebCrypto SHA-256
 * and compares the result with the root in the log's signed checkpoint.  Also checks that the
 * log only grew since this browser's last visit (RFC 9162 consistency proof).  Nothing here
 * trusts the server's own word that a proof is valid.
 *
 * Written for interlock (Apache-2.0); no dependencies.
 */
(function () {
  "use strict";

  var enc = new TextEncoder();

  // --- bytes ---------------------------------------------------------------------------
  function b64decode(text) {
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function b64encode(bytes) {
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin);
  }
  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  function fromHex(text) {
    if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new Error("not hex");
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }
  /** A 32-byte hash given as base64 or hex. */
  function hashBytes(value) {
    if (typeof value !== "string") throw new Error("a proof hash must be a string");
    var bytes = /^[0-9a-fA-F]{64}$/.test(value) ? fromHex(value) : b64decode(value);
    if (bytes.length !== 32) throw new Error("a proof hash must be 32 bytes");
    return bytes;
  }
  function concat() {
    var total = 0, i;
    for (i = 0; i < arguments.length; i++) total += arguments[i].length;
    var out = new Uint8Array(total), at = 0;
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], at); at += arguments[i].length; }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    var diff = 0;
    for (var i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  // --- RFC 8785 (JCS) for JSON values ------------------------------------------------------
  // Strings and numbers serialise exactly as ECMAScript JSON.stringify does (RFC 8785 §3.2.2);
  // object members are sorted by their UTF-16 code units, which is JavaScript's default sort.
  function canonicalJSON(value) {
    if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
    if (typeof value === "number") {
      if (!isFinite(value)) throw new Error("JSON has no " + value);
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return "[" + value.map(canonicalJSON).join(",") + "]";
    if (typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (k) {
        return JSON.stringify(k) + ":" + canonicalJSON(value[k]);
      }).join(",") + "}";
    }
    throw new Error("cannot canonicalise " + typeof value);
  }

  // --- RFC 9162 hashing ---------------------------------------------------------------------
  function sha256(bytes) {
    return crypto.subtle.digest("SHA-256", bytes).then(function (buf) { return new Uint8Array(buf); });
  }
  function leafHash(bytes) { return sha256(concat(new Uint8Array([0]), bytes)); }
  function nodeHash(left, right) { return sha256(concat(new Uint8Array([1]), left, right)); }
  function half(n) { return Math.floor(n / 2); }
  function odd(n) { return n % 2 === 1; }
  function isPowerOfTwo(n) { while (n > 1 && n % 2 === 0) n /= 2; return n === 1; }

  /** RFC 9162 §2.1.3.2.  Resolves to true or rejects with the reason. */
  async function verifyInclusion(hash, index, size, proof, root) {
    if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size)) || index < 0 || index >= size) {
      throw new Error("the entry index " + index + " is not inside a tree of " + size);
    }
    var fn = index, sn = size - 1, r = hash;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (sn === 0) throw new Error("the proof is longer than the tree is deep");
      if (odd(fn) || fn === sn) {
        r = await nodeHash(p, r);
        if (!odd(fn)) { while (!(odd(fn) || fn === 0)) { fn = half(fn); sn = half(sn); } }
      } else {
        r = await nodeHash(r, p);
      }
      fn = half(fn); sn = half(sn);
    }
    if (sn !== 0) throw new Error("the proof is too short for a tree of " + size);
    if (!equal(r, root)) throw new Error("the recomputed root " + hex(r).slice(0, 16) + "… differs from the checkpoint's " + hex(root).slice(0, 16) + "…");
    return true;
  }

  /** RFC 9162 §2.1.4.2.  Resolves to true or rejects with the reason. */
  async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
    if (first === second) {
      if (proof.length) throw new Error("a proof between equal sizes must be empty");
      if (!equal(firstRoot, secondRoot)) throw new Error("same size, different roots: two histories");
      return true;
    }
    if (first < 1 || first > second) throw new Error("cannot prove consistency from " + first + " to " + second);
    if (!proof.length) throw new Error("the consistency proof is empty");
    var path = proof.slice();
    if (isPowerOfTwo(first)) path.unshift(firstRoot);
    var fn = first - 1, sn = second - 1;
    while (odd(fn)) { fn = half(fn); sn = half(sn); }
    var fr = path[0], sr = path[0];
    for (var i = 1; i < path.length; i++) {
      var c = path[i];
      if (sn === 0) throw new Error("the proof is longer than the tree is deep");
      if (odd(fn) || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        if (!odd(fn)) { while (!(odd(fn) || fn === 0)) { fn = half(fn); sn = half(sn); } }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn = half(fn); sn = half(sn);
    }
    if (sn !== 0) throw new Error("the proof is too short");
    if (!equal(fr, firstRoot)) throw new Error("the proof does not lead to the earlier root: the log rewrote history");
    if (!equal(sr, secondRoot)) throw new Error("the proof does not lead to the latest root");
    return true;
  }

  // --- reading the API ----------------------------------------------------------------------
  /** A C2SP checkpoint (signed note) → {origin, size, root, text, signatures: [{name, sig}]}. */
  function parseCheckpoint(note) {
    var cut = note.indexOf("\n\n");
    if (cut < 0) throw new Error("the checkpoint is not a signed note");
    var text = note.slice(0, cut + 1);  // the signed text ends with its last newline
    var lines = text.slice(0, -1).split("\n");
    if (lines.length < 3 || !/^\d+$/.test(lines[1])) throw new Error("the checkpoint is not a signed note");
    var signatures = note.slice(cut + 2).split("\n").filter(function (l) { return l.indexOf("— ") === 0; })
      .map(function (l) { var at = l.lastIndexOf(" "); return { name: l.slice(2, at), sig: b64decode(l.slice(at + 1)) }; });
    return { origin: lines[0], size: parseInt(lines[1], 10), root: hashBytes(lines[2]), text: text, signatures: signatures };
  }

  /** Check the log's Ed25519 note signature on a checkpoint with its verifier key
   *  (`name+hexid+base64(0x01 ‖ public key)`).  Resolves to a sentence; rejects when it fails. */
  async function verifyNoteSignature(cp, vkey) {
    var parts = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey);  // base64 may hold '+'
    if (!parts) throw new Error("the log key is not a note verifier key");
    var name = parts[1], keyBytes = b64decode(parts[3]);
    if (keyBytes.length !== 33 || keyBytes[0] !== 1) throw new Error("the log key is not an Ed25519 note key");
    var pub = keyBytes.slice(1);
    var keyHash = (await sha256(concat(enc.encode(name + "\n"), keyBytes))).slice(0, 4);
    var line = cp.signatures.find(function (s) { return s.name === name && s.sig.length === 68 && equal(s.sig.slice(0, 4), keyHash); });
    if (!line) throw new Error("the checkpoint carries no signature by the log key " + name);
    var key;
    try {
      key = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      return "(this browser cannot check Ed25519 signatures; the checkpoint's signature was not checked)";
    }
    var ok = await crypto.subtle.verify({ name: "Ed25519" }, key, line.sig.slice(4), enc.encode(cp.text));
    if (!ok) throw new Error("the checkpoint's signature by the log key " + name + " does not verify");
    return "The checkpoint's signature by the log key " + name + "+" + parts[2] + " verifies.";
  }
  function proofList(data) {
    var list = Array.isArray(data) ? data
      : data.hashes || data.proof || data.inclusion_proof || data.consistency_proof || data.audit_path || data.path;
    if (!Array.isArray(list)) throw new Error("the server's proof has no list of hashes");
    return list.map(hashBytes);
  }
  async function fetchOk(url, asText) {
    var response = await fetch(url, { headers: { Accept: asText ? "text/plain, application/json" : "application/json" }, cache: "no-store" });
    if (!response.ok) throw new Error(url + " answered " + response.status);
    return asText ? response.text() : response.json();
  }
  async function fetchCheckpoint(api) {
    var text = await fetchOk(api + "/checkpoint", true);
    var trimmed = text.replace(/^\s+/, "");
    if (trimmed.charAt(0) === "{") {
      var data = JSON.parse(text);
      text = data.checkpoint || data.note || data.signed_note || data.text;
      if (typeof text !== "string") throw new Error("the checkpoint answer holds no signed note");
    }
    return parseCheckpoint(text);
  }
  function entryLine(data) {
    if (data && data.entry && data.entry.envelope) data = data.entry;
    if (!data || typeof data.integrated_at !== "string" || typeof data.envelope !== "object") {
      throw new Error("the entry has no integrated_at and envelope");
    }
    return data;
  }

  async function fetchLogKey(api) {
    var info = await fetchOk(api);
    if (!info || typeof info.log_key !== "string") throw new Error("the server does not say which key signs its log");
    return info.log_key;
  }

  /** Check entry `index` of the log at `api`; resolves to a sentence, rejects with the reason. */
  async function verifyEntry(api, index) {
    var line = entryLine(await fetchOk(api + "/entries/" + index));
    if (line.index !== undefined && line.index !== index) throw new Error("the server sent entry " + line.index + " instead");
    var bytes = enc.encode(canonicalJSON({ integrated_at: line.integrated_at, envelope: line.envelope }));
    var leaf = await leafHash(bytes);
    var cp = await fetchCheckpoint(api);
    var proof = proofList(await fetchOk(api + "/proofs/inclusion?index=" + index + "&size=" + cp.size));
    await verifyInclusion(leaf, index, cp.size, proof, cp.root);
    var signed = await verifyNoteSignature(cp, await fetchLogKey(api));
    return "Verified: entry " + index + " (leaf " + hex(leaf).slice(0, 12) + "…) is in the log's checkpoint of " +
      cp.size + " entries, root " + hex(cp.root).slice(0, 12) + "…, computed by your browser. " + signed;
  }

  var STORE = "interlock:checkpoint:";
  async function checkSinceVisit(api) {
    var cp = await fetchCheckpoint(api);
    await verifyNoteSignature(cp, await fetchLogKey(api));
    var key = STORE + cp.origin;
    var seen = null;
    try { seen = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { seen = null; }
    var remember = function () { try { localStorage.setItem(key, JSON.stringify({ size: cp.size, root: b64encode(cp.root) })); } catch (e) { /* private mode */ } };
    if (!seen) { remember(); return "First check from this browser: it now remembers the checkpoint of " + cp.size + " entries and will check next time that the log only grew."; }
    var oldRoot = b64decode(seen.root);
    if (seen.size > cp.size) throw new Error("the log is now shorter (" + cp.size + ") than when you last looked (" + seen.size + "): two histories");
    if (seen.size === cp.size) {
      if (!equal(oldRoot, cp.root)) throw new Error("same size as your last visit but a different root: two histories");
      return "Unchanged since your last check: " + cp.size + " entries, same root.";
    }
    var proof = proofList(await fetchOk(api + "/proofs/consistency?old=" + seen.size + "&new=" + cp.size));
    await verifyConsistency(seen.size, cp.size, oldRoot, cp.root, proof);
    remember();
    return "Consistent: the log grew from " + seen.size + " to " + cp.size + " entries without changing any earlier entry (checked by your browser).";
  }

  // --- wiring ------------------------------------------------------------------------------
  function show(output, ok, text) {
    output.textContent = (ok ? "✓ " : "✕ ") + text;
    output.setAttribute("data-outcome", ok ? "ok" : "fail");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".verify-button");
    if (button) {
      var box = button.closest(".verify");
      var output = box.querySelector(".verify-result");
      output.textContent = "Checking…";
      output.removeAttribute("data-outcome");
      verifyEntry(box.getAttribute("data-api"), parseInt(box.getAttribute("data-verify-index"), 10))
        .then(function (text) { show(output, true, text); })
        .catch(function (err) { show(output, false, "Not verified: " + err.message); });
      return;
    }
    if (event.target.id === "consistency-button") {
      var result = document.getElementById("consistency-result");
      result.textContent = "Checking…";
      checkSinceVisit(document.getElementById("since-visit").getAttribute("data-api"))
        .then(function (text) { show(result, true, text); })
        .catch(function (err) { show(result, false, "Inconsistent: " + err.message); });
    }
  });

  window.InterlockVerify = {
    canonicalJSON: canonicalJSON, leafHash: leafHash, nodeHash: nodeHash, verifyInclusion: verifyInclusion,
    verifyConsistency: verifyConsistency, parseCheckpoint: parseCheckpoint, verifyEntry: verifyEntry,
    verifyNoteSignature: verifyNoteSignature,
    checkSinceVisit: checkSinceVisit, hashBytes: hashBytes, hex: hex, b64decode: b64decode,
  };
})();
