// Renders /openapi.json: one section per tag, one card per operation, with its parameters,
// request body and responses, and the schemas they refer to.
(function () {
  "use strict";

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => node.setAttribute(key, value));
    (children || []).forEach((child) =>
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child));
    return node;
  }

  function refName(ref) {
    return ref.split("/").pop();
  }

  function schemaText(schema, components, depth) {
    if (!schema) return "";
    if (schema.$ref) {
      const name = refName(schema.$ref);
      if (depth > 2) return name;
      return name + " " + schemaText(components[name], components, depth + 1);
    }
    if (schema.type === "array" || (Array.isArray(schema.type) && schema.type.includes("array"))) {
      return "[" + schemaText(schema.items, components, depth) + "]";
    }
    if (schema.properties) {
      const required = new Set(schema.required || []);
      const fields = Object.entries(schema.properties).map(([name, value]) =>
        "  ".repeat(depth + 1) + name + (required.has(name) ? "" : "?") + ": " +
        schemaText(value, components, depth + 1));
      return "{\n" + fields.join("\n") + "\n" + "  ".repeat(depth) + "}";
    }
    const type = Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type || "any");
    return type + (schema.format ? " (" + schema.format + ")" : "");
  }

  function operationCard(path, method, op, components) {
    const card = el("section", { class: "operation", id: op.operationId || method + path }, [
      el("h3", {}, [el("span", { class: "method " + method }, [method.toUpperCase()]), " ", el("code", {}, [path])]),
    ]);
    if (op.summary || op.description) card.appendChild(el("p", {}, [op.summary || op.description]));
    if (op.parameters && op.parameters.length) {
      const rows = op.parameters.map((p) => el("tr", {}, [
        el("td", {}, [el("code", {}, [p.name])]), el("td", {}, [p.in]),
        el("td", {}, [p.required ? "required" : "optional"]), el("td", {}, [p.description || ""]),
      ]));
      card.appendChild(el("h4", {}, ["Parameters"]));
      card.appendChild(el("table", {}, rows));
    }
    const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    if (body) {
      card.appendChild(el("h4", {}, ["Request body"]));
      card.appendChild(el("pre", {}, [schemaText(body.schema, components, 0)]));
    }
    card.appendChild(el("h4", {}, ["Responses"]));
    Object.entries(op.responses || {}).forEach(([status, response]) => {
      const content = response.content && response.content["application/json"];
      card.appendChild(el("div", { class: "response" }, [
        el("strong", {}, [status]), " ", response.description || "",
        content ? el("pre", {}, [schemaText(content.schema, components, 0)]) : el("span"),
      ]));
    });
    return card;
  }

  fetch("/openapi.json").then((r) => r.json()).then((doc) => {
    const components = (doc.components && doc.components.schemas) || {};
    document.getElementById("summary").textContent =
      (doc.info.description || "") + " OpenAPI " + doc.openapi + ", version " + doc.info.version + ".";
    const byTag = {};
    Object.entries(doc.paths).forEach(([path, item]) => {
      Object.entries(item).forEach(([method, op]) => {
        const tag = (op.tags && op.tags[0]) || "other";
        (byTag[tag] = byTag[tag] || []).push(operationCard(path, method, op, components));
      });
    });
    const nav = document.getElementById("tags");
    const main = document.getElementById("operations");
    Object.entries(byTag).forEach(([tag, cards]) => {
      nav.appendChild(el("a", { href: "#tag-" + tag }, [tag]));
      main.appendChild(el("h2", { id: "tag-" + tag }, [tag]));
      cards.forEach((card) => main.appendChild(card));
    });
  }).catch((error) => {
    document.getElementById("summary").textContent = "Could not load /openapi.json: " + error;
  });
})();
