// A real OpenID provider on loopback for casegraph's sign-in tests: the certified oidc-provider
// package with its development login and consent pages (any password is accepted, the login
// names the account). Configured by one JSON argument:
//   { "port": 0, "clients": [{client_id, client_secret?, redirect_uris}], "accounts": {login: claims} }
// Every client must use PKCE (S256). Prints "listening <issuer>" once it accepts connections.

import Provider from "oidc-provider";

const config = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${config.port}`;

const clients = config.clients.map((client) => ({
  response_types: ["code"],
  grant_types: ["authorization_code"],
  token_endpoint_auth_method: client.client_secret ? "client_secret_basic" : "none",
  ...client,
}));

const provider = new Provider(issuer, {
  clients,
  pkce: { required: () => true },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "roles"],
  },
  async findAccount(ctx, id) {
    const claims = config.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["casegraph-test-provider-cookie-key"] },
});

const server = provider.listen(config.port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
