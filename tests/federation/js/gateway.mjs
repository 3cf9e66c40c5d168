// An Apollo gateway on loopback over casegraph and the partner subgraph.
// The caller's Authorization header goes to every subgraph with each query; loading the
// subgraphs' SDL (`_service { sdl }`) happens outside any request, with GATEWAY_SERVICE_TOKEN.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";

class ForwardAuthorization extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    const authorization = context?.authorization ?? `Bearer ${process.env.GATEWAY_SERVICE_TOKEN}`;
    request.http.headers.set("authorization", authorization);
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({ subgraphs: JSON.parse(process.env.GATEWAY_SUBGRAPHS) }),
  buildService: ({ url }) => new ForwardAuthorization({ url }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(process.env.PORT) },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
process.stdout.write(`ready ${url}\n`);
