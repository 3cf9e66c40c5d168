// The partner's subgraph on loopback. PARTNER_INSPECTIONS is JSON: [{id, caseId, finding}, ...].
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

const inspections = JSON.parse(process.env.PARTNER_INSPECTIONS ?? "[]");
const typeDefs = parse(readFileSync(new URL("./partner.graphql", import.meta.url), "utf8"));
const asInspection = (row) => ({ id: row.id, finding: row.finding, case: { __typename: "Case", id: row.caseId } });
const resolvers = {
  Query: {
    inspection: (_, { id }) => {
      const row = inspections.find((candidate) => candidate.id === id);
      return row ? asInspection(row) : null;
    },
  },
  Case: {
    __resolveReference: (reference) => ({ id: reference.id }),
    inspections: (parent) => inspections.filter((row) => row.caseId === parent.id).map(asInspection),
  },
};

const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers }) });
const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port: Number(process.env.PORT) } });
process.stdout.write(`ready ${url}\n`);
