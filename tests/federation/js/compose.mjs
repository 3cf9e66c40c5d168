// Composes subgraph SDL files with Apollo's composition library; prints the outcome as JSON.
// Usage: node compose.mjs name=path.graphql ...
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const services = process.argv.slice(2).map((argument) => {
  const [name, path] = argument.split("=");
  return { name, typeDefs: parse(readFileSync(path, "utf8")), url: `http://127.0.0.1/${name}` };
});
const result = composeServices(services);
process.stdout.write(JSON.stringify({
  errors: (result.errors ?? []).map((error) => error.message),
  supergraphSdl: result.supergraphSdl ?? null,
}));
