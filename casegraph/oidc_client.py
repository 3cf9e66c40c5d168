"""The server's side of talking to an OpenID provider: discovery, the code exchange, the ID token.

The provider's metadata (``/.well-known/openid-configuration``) and key set are fetched once and
cached; an ID token signed with a key id we do not know makes us fetch the key set again (the
provider rotated its keys), at most once per ``KEYS_REFETCH_SECONDS``. The ID token is checked
as OpenID Connect Core section 3.1.3.7 asks: signature by the provider's key (asymmetric
algorithms only: ``none`` and HS256 with a public key are refused), ``iss``, ``aud`` (and
``azp`` when there are several audiences), ``exp``, ``iat`` and the flow's ``nonce``.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote_plus, urlencode

import httpx
import jwt

from casegraph.settings import OidcProvider

ID_TOKEN_ALGORITHMS: Final = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
LEEWAY_SECONDS: Final = 60
METADATA_SECONDS: Final = 3600.0
KEYS_REFETCH_SECONDS: Final = 60.0
HTTP_TIMEOUT: Final = 10.0
MAX_ANSWER_BYTES: Final = 1024 * 1024


class ProviderError(Exception):
    """The provider could not be reached, or answered something we cannot use (said why)."""


class IdTokenRefused(Exception):
    """The ID token does not prove who signed in (said why)."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None


@dataclass(frozen=True)
class TokenAnswer:
    id_token: str
    access_token: str | None


def validate_id_token(
    token: str, keys: jwt.PyJWKSet, *, issuer: str, client_id: str, nonce: str, now: float
) -> dict[str, Any]:
    """The claims of an ID token that passes every check (module docstring); IdTokenRefused otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise IdTokenRefused(f"not a JWT ({type(exc).__name__})") from None
    algorithm = header.get("alg")
    if algorithm not in ID_TOKEN_ALGORITHMS:
        raise IdTokenRefused(f"signed with {algorithm!r}, not one of the provider's key algorithms")
    key = _key_for(keys, header.get("kid"))
    if key is None:
        raise IdTokenRefused("signed with a key the provider does not publish")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            audience=client_id,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_iat": True},
        )
    except jwt.ExpiredSignatureError:
        raise IdTokenRefused("expired") from None
    except jwt.InvalidAudienceError:
        raise IdTokenRefused("issued to another client (aud)") from None
    except jwt.ImmatureSignatureError:
        raise IdTokenRefused("issued in the future (iat)") from None
    except jwt.InvalidIssuerError:
        raise IdTokenRefused("issued by another provider (iss)") from None
    except jwt.PyJWTError as exc:
        raise IdTokenRefused(f"not valid ({type(exc).__name__}: {exc})") from None
    iat = claims["iat"]
    if not isinstance(iat, (int, float)) or iat > now + LEEWAY_SECONDS:
        raise IdTokenRefused("issued in the future (iat)")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise IdTokenRefused("issued to several clients, and not on behalf of this one (azp)")
    if claims.get("nonce") != nonce:
        # Not the token of the sign-in this browser started: a replayed or injected one.
        raise IdTokenRefused("for another sign-in (nonce)")
    return claims


def _key_for(keys: jwt.PyJWKSet, kid: object) -> jwt.PyJWK | None:
    usable = [key for key in keys.keys if getattr(key, "public_key_use", None) in (None, "sig")]
    if kid is None:
        return usable[0] if len(usable) == 1 else None
    return next((key for key in usable if key.key_id == kid), None)


class OidcClient:
    """One configured provider, seen from this server (a confidential or a public PKCE client)."""

    def __init__(
        self,
        provider: OidcProvider,
        *,
        redirect_uri: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self.redirect_uri = redirect_uri
        self._transport = transport
        self._clock = clock
        self._metadata: tuple[ProviderMetadata, float] | None = None
        self._keys: tuple[jwt.PyJWKSet, float] | None = None
        self._lock = asyncio.Lock()

    async def metadata(self) -> ProviderMetadata:
        cached = self._metadata
        if cached is not None and self._clock() - cached[1] < METADATA_SECONDS:
            return cached[0]
        document = await self._get_json(self.provider.discovery_url)
        try:
            metadata = ProviderMetadata(
                issuer=_text(document, "issuer"),
                authorization_endpoint=_text(document, "authorization_endpoint"),
                token_endpoint=_text(document, "token_endpoint"),
                jwks_uri=_text(document, "jwks_uri"),
                userinfo_endpoint=document.get("userinfo_endpoint") or None,
            )
        except KeyError as missing:
            raise ProviderError(f"the discovery document has no {missing}") from None
        if metadata.issuer != self.provider.issuer:
            # OpenID Connect Discovery section 4.3: the document must name the issuer configured.
            raise ProviderError(
                f"the discovery document names issuer {metadata.issuer!r}, not {self.provider.issuer!r}"
            )
        self._metadata = (metadata, self._clock())
        return metadata

    def authorization_url(self, metadata: ProviderMetadata, *, state: str, nonce: str, code_challenge: str) -> str:
        parameters = {
            "response_type": "code",
            "client_id": self.provider.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.provider.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if self.provider.acr_values:
            parameters["acr_values"] = self.provider.acr_values
        query = urlencode(parameters)
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return f"{metadata.authorization_endpoint}{separator}{query}"

    async def exchange(self, code: str, *, verifier: str) -> TokenAnswer:
        """Trade the code (and the PKCE verifier) for tokens at the token endpoint."""
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
        }
        headers = {"Accept": "application/json"}
        if self.provider.client_secret is None:
            form["client_id"] = self.provider.client_id  # a public client: PKCE is its proof
        else:
            headers["Authorization"] = client_secret_basic(self.provider.client_id, self.provider.client_secret)
        async with self._http() as http:
            try:
                response = await http.post(metadata.token_endpoint, data=form, headers=headers)
            except httpx.HTTPError as exc:
                raise ProviderError(f"the token endpoint could not be reached ({type(exc).__name__})") from None
        answer = _json_of(response, "the token endpoint")
        if response.status_code != 200:
            raise ProviderError(f"the token endpoint refused the code: {answer.get('error', response.status_code)}")
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderError("the token endpoint answered no id_token (is the openid scope allowed?)")
        access_token = answer.get("access_token")
        return TokenAnswer(id_token=id_token, access_token=access_token if isinstance(access_token, str) else None)

    async def identity_claims(self, answer: TokenAnswer, *, nonce: str) -> dict[str, Any]:
        """The validated ID token's claims, completed by the userinfo endpoint's (Core 5.3.2:
        only when the userinfo names the same ``sub``); the ID token's win where both speak."""
        metadata = await self.metadata()
        keys = await self._key_set(metadata, refresh=False)
        check = {"issuer": metadata.issuer, "client_id": self.provider.client_id, "nonce": nonce}
        try:
            claims = validate_id_token(answer.id_token, keys, now=time.time(), **check)
        except IdTokenRefused as refused:
            if "does not publish" not in str(refused):
                raise
            keys = await self._key_set(metadata, refresh=True)  # the provider may have rotated its keys
            claims = validate_id_token(answer.id_token, keys, now=time.time(), **check)
        if metadata.userinfo_endpoint and answer.access_token:
            userinfo = await self._userinfo(metadata.userinfo_endpoint, answer.access_token)
            if userinfo.get("sub") == claims["sub"]:
                claims = {**userinfo, **claims}
        return claims

    async def _userinfo(self, url: str, access_token: str) -> dict[str, Any]:
        async with self._http() as http:
            try:
                response = await http.get(url, headers={"Authorization": f"Bearer {access_token}"})
            except httpx.HTTPError as exc:
                raise ProviderError(f"the userinfo endpoint could not be reached ({type(exc).__name__})") from None
        if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
            return {}  # a signed or refused userinfo: the ID token alone is used
        return _json_of(response, "the userinfo endpoint")

    async def _key_set(self, metadata: ProviderMetadata, *, refresh: bool) -> jwt.PyJWKSet:
        async with self._lock:
            cached = self._keys
            fresh_enough = cached is not None and (not refresh or self._clock() - cached[1] < KEYS_REFETCH_SECONDS)
            if cached is not None and fresh_enough and self._clock() - cached[1] < METADATA_SECONDS:
                return cached[0]
            document = await self._get_json(metadata.jwks_uri)
            try:
                keys = jwt.PyJWKSet.from_dict(document)
            except jwt.PyJWTError as exc:
                raise ProviderError(f"the provider's key set is not usable ({exc})") from None
            self._keys = (keys, self._clock())
            return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with self._http() as http:
            try:
                response = await http.get(url, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                raise ProviderError(f"{url} could not be reached ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise ProviderError(f"{url} answered {response.status_code}")
        return _json_of(response, url)

    def _http(self) -> httpx.AsyncClient:
        # No redirects: a provider's endpoints answer in place; following one could lead anywhere.
        return httpx.AsyncClient(timeout=HTTP_TIMEOUT, transport=self._transport, follow_redirects=False)


def client_secret_basic(client_id: str, secret: str) -> str:
    """RFC 6749 section 2.3.1: both form-urlencoded, then HTTP Basic (a ':' in either survives)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def _json_of(response: httpx.Response, what: str) -> dict[str, Any]:
    if len(response.content) > MAX_ANSWER_BYTES:
        raise ProviderError(f"{what} answered too much")
    try:
        document = response.json()
    except ValueError:
        raise ProviderError(f"{what} answered something that is not JSON ({response.status_code})") from None
    if not isinstance(document, dict):
        raise ProviderError(f"{what} answered JSON that is not an object")
    return document


def _text(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise KeyError(key)
    return value
