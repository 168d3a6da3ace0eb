// Renders /openapi.json without any outside resource: paths, parameters, schemas, "Try it".
"use strict";

(function () {
  const $ = (sel) => document.querySelector(sel);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  let spec = null;

  function resolve(schema) {
    if (schema && schema.$ref) {
      const name = schema.$ref.split("/").pop();
      return [name, spec.components.schemas[name] || {}];
    }
    return [null, schema || {}];
  }

  // A one-line type description of a JSON schema, following references by name.
  function typeOf(schema) {
    if (!schema) return "any";
    if (schema.$ref) return schema.$ref.split("/").pop();
    if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
    if (schema.oneOf) return schema.oneOf.map(typeOf).join(" | ");
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    if (schema.type === "array") return typeOf(schema.items) + "[]";
    if (schema.type === "object" && schema.additionalProperties) {
      return "{[key]: " + typeOf(schema.additionalProperties) + "}";
    }
    return schema.type || "object";
  }

  function schemaTable(schema) {
    const [, s] = resolve(schema);
    const props = s.properties || {};
    const required = new Set(s.required || []);
    if (!Object.keys(props).length) return el("p", {}, el("code", {}, typeOf(schema)));
    const rows = Object.entries(props).map(([name, p]) =>
      el("tr", {},
        el("td", {}, el("code", {}, name), required.has(name) ? el("span", { class: "req" }, " required") : null),
        el("td", {}, el("code", {}, typeOf(p))),
        el("td", {}, p.description || p.title || "", p.default !== undefined ? " (default " + JSON.stringify(p.default) + ")" : "")));
    return el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, "about")), ...rows);
  }

  function example(schema) {
    const [, s] = resolve(schema);
    return s.examples && s.examples.length ? JSON.stringify(s.examples[0], null, 2) : "{}";
  }

  function tryIt(path, method, op) {
    const box = el("div", { class: "try" });
    const inputs = {};
    for (const p of op.parameters || []) {
      if (p.name === "orgId" || p.name === "locale" || p.in === "header") continue;
      inputs[p.name] = el("input", { placeholder: p.name + (p.in === "path" ? " (path)" : "") });
      box.append(el("label", {}, p.name + " ", inputs[p.name]), " ");
    }
    const body = op.requestBody ? el("textarea", {}, example(op.requestBody.content["application/json"].schema)) : null;
    if (body) box.append(el("div", {}, body));
    const out = el("pre", {}, "");
    const button = el("button", {}, "Try it");
    button.addEventListener("click", async () => {
      let url = path.replace(/{(\w+)}/g, (_, n) => encodeURIComponent((inputs[n] && inputs[n].value) || ""));
      const query = new URLSearchParams();
      for (const p of op.parameters || []) {
        if (p.in === "query" && inputs[p.name] && inputs[p.name].value) query.set(p.name, inputs[p.name].value);
      }
      const headers = {};
      if (op.security && op.security.length) {
        query.set("orgId", $("#orgid").value);
        query.set("locale", $("#locale").value);
        headers["Authorization"] = "Bearer " + $("#apikey").value;
      }
      if (body) headers["Content-Type"] = "application/json";
      const qs = query.toString();
      url = url.replace(/^\//, "") + (qs ? "?" + qs : "");
      out.textContent = method.toUpperCase() + " /" + url + " …";
      try {
        // Relative to /docs, so the page also works behind a path-prefixing proxy.
        const resp = await fetch(url, { method: method.toUpperCase(), headers, body: body ? body.value : undefined });
        const text = await resp.text();
        let shown = text;
        try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
        out.textContent = resp.status + " " + resp.statusText + "\n" + shown;
      } catch (e) {
        out.textContent = String(e);
      }
    });
    box.append(button, out);
    return box;
  }

  function operation(path, method, op) {
    const params = op.parameters || [];
    const body = el("div", { class: "body" });
    if (params.length) {
      body.append(el("h4", {}, "Parameters"), el("table", {},
        el("tr", {}, el("th", {}, "name"), el("th", {}, "in"), el("th", {}, "type"), el("th", {}, "about")),
        ...params.map((p) => el("tr", {},
          el("td", {}, el("code", {}, p.name), p.required ? el("span", { class: "req" }, " required") : null),
          el("td", {}, p.in), el("td", {}, el("code", {}, typeOf(p.schema))), el("td", {}, p.description || "")))));
    }
    if (op.requestBody) {
      const schema = op.requestBody.content["application/json"].schema;
      body.append(el("h4", {}, "Body: ", el("code", {}, typeOf(schema))), schemaTable(schema));
    }
    body.append(el("h4", {}, "Answers"));
    const rows = Object.entries(op.responses || {}).map(([status, r]) => {
      const content = r.content || {};
      const type = Object.keys(content)[0];
      return el("tr", {}, el("td", {}, status), el("td", {}, r.description || ""),
        el("td", {}, type ? el("code", {}, type + ": " + typeOf(content[type].schema)) : ""));
    });
    body.append(el("table", {}, ...rows));
    if (method === "get" || op.requestBody) body.append(el("h4", {}, "Try it"), tryIt(path, method, op));
    return el("details", { class: "op", id: op.operationId },
      el("summary", {}, el("span", { class: "method " + method }, method.toUpperCase()),
        el("span", { class: "path" }, path), el("span", { class: "summary" }, op.summary || "")),
      body);
  }

  function render() {
    $("#title").textContent = spec.info.title;
    $("#version").textContent = "version " + spec.info.version + " · OpenAPI " + spec.openapi;
    $("#description").textContent = spec.info.description || "";
    const content = $("#content");
    content.textContent = "";
    const byTag = new Map();
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const tag = (op.tags && op.tags[0]) || "other";
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push(operation(path, method, op));
      }
    }
    const toc = $("#toc");
    for (const [tag, ops] of byTag) {
      content.append(el("h2", { id: "tag-" + tag }, tag), ...ops);
      toc.append(el("a", { href: "#tag-" + tag }, tag));
    }
    const schemas = Object.entries(spec.components.schemas || {});
    content.append(el("h2", { id: "schemas" }, "Schemas"), ...schemas.map(([name, s]) =>
      el("details", { class: "schema" }, el("summary", {}, name),
        s.description ? el("p", {}, s.description) : null,
        schemaTable({ $ref: "#/components/schemas/" + name }),
        s.examples ? el("pre", {}, JSON.stringify(s.examples[0], null, 2)) : null)));
    toc.append(el("a", { href: "#schemas" }, "schemas"));
  }

  fetch("openapi.json")
    .then((r) => { if (!r.ok) throw new Error("openapi.json: HTTP " + r.status); return r.json(); })
    .then((doc) => { spec = doc; render(); })
    .catch((e) => { $("#content").replaceChildren(el("p", { class: "error" }, String(e))); });
})();
