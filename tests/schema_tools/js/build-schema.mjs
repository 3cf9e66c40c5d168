// Loads an SDL file with graphql-js's buildSchema, as codegen, graphql-inspector and eslint do.
// Prints the number of types and root fields it found; exits non-zero with the error otherwise.
import { readFileSync } from "node:fs";
import { buildSchema, assertValidSchema } from "graphql";

const [path] = process.argv.slice(2);
const schema = buildSchema(readFileSync(path, "utf8"));
assertValidSchema(schema);
const types = Object.keys(schema.getTypeMap()).filter((name) => !name.startsWith("__"));
console.log(
  JSON.stringify({
    types: types.length,
    query: Object.keys(schema.getQueryType()?.getFields() ?? {}),
    mutation: Object.keys(schema.getMutationType()?.getFields() ?? {}),
    subscription: Object.keys(schema.getSubscriptionType()?.getFields() ?? {}),
  }),
);
