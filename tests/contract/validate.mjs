// Validates AsyncAPI documents with the AsyncAPI initiative's own parser, independently of the
// Python code that generated them. Usage: node validate.mjs FILE... Prints one JSON line per file:
// {"file", "asyncapi", "errors": [...], "warnings": [...]}; exits 1 if any file has an error.
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const parser = new Parser();
let failed = false;

for (const file of process.argv.slice(2)) {
  const text = await readFile(file, "utf8");
  const { document, diagnostics } = await parser.parse(text, { source: file });
  const shown = (severity) =>
    diagnostics
      .filter((d) => d.severity === severity)
      .map((d) => `${d.code}: ${d.message} at /${d.path.join("/")}`);
  const errors = shown(DiagnosticSeverity.Error);
  failed ||= errors.length > 0 || document === undefined;
  console.log(
    JSON.stringify({
      file,
      asyncapi: document ? document.version() : null,
      errors,
      warnings: shown(DiagnosticSeverity.Warning),
    }),
  );
}
process.exit(failed ? 1 : 0);
