// Cross-check driver for the iabgpp-es reference library (@iabgpp/cmpapi).
//
// Usage: node iabgpp_decode.js PACKAGE_DIR [decode|encode] < input.json
//   PACKAGE_DIR contains node_modules/@iabgpp/cmpapi (nothing is downloaded).
//   decode: input is a JSON list of GPP strings; prints one result per string:
//           {"sectionIds": [...], "sections": {name: {field: value, ...}}} or {"error": "..."}.
//           US sections also get "GpcSegmentIncluded" (not part of the library's toObj()).
//   encode: input is a JSON list of {sectionName: {field: value}}; prints one result per entry:
//           {"gpp": "..."} or {"error": "..."}.
"use strict";
const path = require("path");
const { createRequire } = require("module");

const [packageDir, mode = "decode"] = process.argv.slice(2);
if (!packageDir) {
  process.stderr.write("usage: node iabgpp_decode.js PACKAGE_DIR [decode|encode]\n");
  process.exit(2);
}
const { GppModel } = createRequire(path.join(path.resolve(packageDir), "index.js"))("@iabgpp/cmpapi");

function decodeOne(gpp) {
  try {
    const model = new GppModel(gpp);
    const sectionIds = model.getSectionIds();
    const sections = {};
    for (const name of ["uspv1", "usnat", "usca", "usva", "usco", "usut", "usct", "usfl",
      "usmt", "usor", "ustx", "usde", "usia", "usne", "usnh", "usnj", "ustn", "usmn"]) {
      if (!model.hasSection(name)) continue;
      const obj = model.getSection(name);
      if (name !== "uspv1") {
        try {
          obj.GpcSegmentIncluded = model.getFieldValue(name, "GpcSegmentIncluded");
        } catch (e) {
          // Sections without a GPC sub-section have no such field.
        }
      }
      sections[name] = obj;
    }
    return { sectionIds, sections };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
}

function encodeOne(spec) {
  try {
    const model = new GppModel();
    for (const [name, fields] of Object.entries(spec)) {
      for (const [field, value] of Object.entries(fields)) {
        model.setFieldValue(name, field, value);
      }
    }
    return { gpp: model.encode() };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const items = JSON.parse(input);
  const run = mode === "encode" ? encodeOne : decodeOne;
  process.stdout.write(JSON.stringify(items.map(run)) + "\n");
});
