// Checks the production deployment's custom resources and PromQL, independently of the Python
// code that made them: Strimzi's resources against the validators compiled from Strimzi's own
// CRD schemas, the Prometheus operator's against its CRDs, and every PromQL expression with
// Prometheus's own grammar (which also names the metrics an expression reads).
// Usage: node deploy.mjs FILE, FILE a JSON {"resources": [...], "expressions": [...]}.
// Prints one JSON line {"resources": [{kind, name, errors}], "expressions": [{expr, errors,
// metrics}]}; exits 1 if anything has an error.
import { readFile } from "node:fs/promises";
import * as strimzi from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { parser } from "@prometheus-io/lezer-promql";

const models = {
  "kafka.strimzi.io/v1": strimzi,
  "monitoring.coreos.com/v1": monitoring,
};

function checkResource(resource) {
  const { apiVersion, kind, metadata } = resource;
  const model = models[apiVersion]?.[kind];
  const result = { apiVersion, kind, name: metadata?.name ?? null, errors: [] };
  if (model === undefined) {
    result.errors.push(`no schema for ${apiVersion} ${kind}`);
    return result;
  }
  try {
    new model(resource).validate();
  } catch (error) {
    result.errors.push(error.message);
  }
  return result;
}

function checkExpression(expr) {
  const tree = parser.parse(expr);
  const errors = [];
  const metrics = new Set();
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) errors.push(`syntax error at ${cursor.from}`);
    if (cursor.name === "Identifier" && cursor.node.parent?.name === "VectorSelector") {
      metrics.add(expr.slice(cursor.from, cursor.to));
    }
  } while (cursor.next());
  return { expr, errors, metrics: [...metrics].sort() };
}

const input = JSON.parse(await readFile(process.argv[2], "utf8"));
const report = {
  resources: (input.resources ?? []).map(checkResource),
  expressions: (input.expressions ?? []).map(checkExpression),
};
console.log(JSON.stringify(report));
const failed = [...report.resources, ...report.expressions].some((r) => r.errors.length > 0);
// exitCode, not exit(): a large report on a pipe must be written out first.
process.exitCode = failed ? 1 : 0;
