from __future__ import annotations
import pytest
from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World

@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_explore(client: GraphQLClient, world: World, settings: Settings) -> None:
    h = client.http
    for body, ct in [(b"{not json", "application/json"), (b'"abc"', "application/json"), (b"42", "application/json"), (b"[]", "application/json"), (b"null", "application/json"), (b"{}", "application/json"), (b'{"query": 5}', "application/json"), (b'{"query":"{me{id}}"}', "text/plain")]:
        try:
            r = await h.post("/graphql", content=body, headers={"content-type": ct, "Authorization": "Bearer " + world.token(settings, "agent")})
            print(body, r.status_code, r.headers.get("content-type"), r.text[:300])
        except Exception as e:
            print(body, "EXC", repr(e))
    tok = world.token(settings, "agent")
    for q in ["{ me { id nope } }", "{ __schema { queryType { name } } }", "{ __typename }"]:
        for t in [None, "garbage", tok]:
            r = await client.post(q, token=t)
            print(q, t and t[:5], r.status_code, r.text[:300])
    r = await h.post("/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Basic abc"})
    print("basic", r.status_code, r.text[:300])
