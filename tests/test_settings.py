"""Where configuration comes from: the environment first, then an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path

import pytest

from casegraph.settings import ClamdAddress, S3Location, Settings


def test_a_dotenv_file_supplies_what_the_environment_does_not(tmp_path: Path) -> None:
    # given: a .env with a comment, a quoted value and a value the environment also sets
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        '# local overrides\nCASEGRAPH_AGENCY_CODE="METRO"\nCASEGRAPH_MAX_DEPTH = 9\nCASEGRAPH_MAX_ALIASES=8\n',
        encoding="utf-8",
    )
    # when
    settings = Settings.from_env({"CASEGRAPH_MAX_ALIASES": "12"}, dotenv=dotenv)
    # then: the file fills the gaps, its quotes and spaces dropped; the environment wins
    assert settings.agency_code == "METRO"
    assert settings.query_limits.max_depth == 9
    assert settings.query_limits.max_aliases == 12


def test_without_a_dotenv_file_only_the_environment_counts(tmp_path: Path) -> None:
    # when: the file named does not exist
    settings = Settings.from_env({"CASEGRAPH_AGENCY_CODE": "METRO"}, dotenv=tmp_path / ".env")
    # then: no error, no warning (warnings are errors under pytest here), the environment's value
    assert settings.agency_code == "METRO"
    assert settings.query_limits.max_depth == Settings.from_env({}, dotenv=tmp_path / ".env").query_limits.max_depth


def test_an_empty_value_counts_as_unset(tmp_path: Path) -> None:
    # given: a variable exported empty, as shells and compose files often leave them
    settings = Settings.from_env({"CASEGRAPH_AGENCY_CODE": ""}, dotenv=tmp_path / ".env")
    # then: the default, not an empty agency code
    assert settings.agency_code == Settings.from_env({}, dotenv=tmp_path / ".env").agency_code


def test_outbound_mail_is_read_from_its_variables(tmp_path: Path) -> None:
    # when
    settings = Settings.from_env(
        {
            "CASEGRAPH_SMTP_URL": "smtp://desk%40city:p%2Fss@mail.city.example",
            "CASEGRAPH_MAIL_FROM": "City of Example <cases@city.example>",
            "CASEGRAPH_MAILDIR": "/srv/mail",
            "CASEGRAPH_MAIL_TEMPLATES": str(tmp_path),
            "CASEGRAPH_PUBLIC_URL": "https://city.example/",
            "CASEGRAPH_MAIL_TIMEZONE": "America/Chicago",
        },
        dotenv=tmp_path / ".env",
    )
    # then
    assert settings.mail_timezone == "America/Chicago"
    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.implicit_tls) == ("mail.city.example", 587, False)
    assert (settings.smtp.username, settings.smtp.password) == ("desk@city", "p/ss")
    assert "p/ss" not in repr(settings)  # the password stays out of logs of the settings
    assert settings.sender == "City of Example <cases@city.example>"
    assert (settings.maildir, settings.mail_templates) == ("/srv/mail", str(tmp_path))
    assert settings.public_url == "https://city.example"


def test_no_mail_settings_mean_the_local_maildir(tmp_path: Path) -> None:
    settings = Settings.from_env({}, dotenv=tmp_path / ".env")
    assert settings.smtp is None and settings.maildir == "var/mail"
    assert settings.mail_timezone == "UTC"
    assert settings.public_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("CASEGRAPH_SMTP_URL", "http://mail.city.example", "CASEGRAPH_SMTP_URL must look like"),
        ("CASEGRAPH_SMTP_URL", "smtp://mail.city.example:99999", "malformed host or port"),
        ("CASEGRAPH_SMTP_URL", "smtp://desk@mail.city.example", "both a user name and a password"),
        ("CASEGRAPH_MAIL_FROM", "cases@city.example, other@evil.example", "CASEGRAPH_MAIL_FROM must be one address"),
        ("CASEGRAPH_MAIL_FROM", "not an address", "CASEGRAPH_MAIL_FROM must be one address"),
        ("CASEGRAPH_MAIL_TEMPLATES", "/nonexistent/templates", "existing directory"),
        ("CASEGRAPH_PUBLIC_URL", "city.example", "CASEGRAPH_PUBLIC_URL must be"),
        ("CASEGRAPH_MAIL_TIMEZONE", "Central Time", "CASEGRAPH_MAIL_TIMEZONE must name a time zone"),
        ("CASEGRAPH_MAIL_TIMEZONE", "../../etc/passwd", "CASEGRAPH_MAIL_TIMEZONE must name a time zone"),
    ],
)
def test_malformed_mail_settings_are_refused_by_name(tmp_path: Path, variable: str, value: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        Settings.from_env({variable: value}, dotenv=tmp_path / ".env")


def test_an_identity_provider_is_read_from_its_variables(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CASEGRAPH_OIDC_ISSUER": "https://id.city.example/realms/staff",
            "CASEGRAPH_OIDC_CLIENT_ID": "casegraph",
            "CASEGRAPH_OIDC_CLIENT_SECRET": "s3cret",
            "CASEGRAPH_OIDC_NAME": "City ID",
            "CASEGRAPH_OIDC_ROLES_CLAIM": "realm_access.roles",
            "CASEGRAPH_OIDC_ROLE_MAP": "caseworker=AGENT, supervisor=manager,admins=ADMIN",
            "CASEGRAPH_OIDC_ACR_VALUES": "urn:acr.login.gov:auth-only",
        },
        dotenv=tmp_path / ".env",
    )
    provider = settings.oidc
    assert provider is not None
    assert provider.discovery_url == "https://id.city.example/realms/staff/.well-known/openid-configuration"
    assert (provider.client_id, provider.client_secret, provider.name) == ("casegraph", "s3cret", "City ID")
    assert provider.scopes == "openid email profile"
    assert provider.roles_claim == "realm_access.roles"
    assert provider.role_map == (("caseworker", "AGENT"), ("supervisor", "MANAGER"), ("admins", "ADMIN"))
    assert provider.acr_values == "urn:acr.login.gov:auth-only"
    assert "s3cret" not in repr(provider)


def test_no_identity_provider_settings_mean_no_provider(tmp_path: Path) -> None:
    assert Settings.from_env({}, dotenv=tmp_path / ".env").oidc is None


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"CASEGRAPH_OIDC_ISSUER": "https://id.city.example"}, "needs CASEGRAPH_OIDC_CLIENT_ID too"),
        ({"CASEGRAPH_OIDC_CLIENT_ID": "casegraph"}, "needs CASEGRAPH_OIDC_ISSUER too"),
        ({"CASEGRAPH_OIDC_CLIENT_SECRET": "s3cret"}, "CASEGRAPH_OIDC_CLIENT_SECRET needs CASEGRAPH_OIDC_ISSUER"),
        ({"CASEGRAPH_OIDC_ISSUER": "http://id.city.example", "CASEGRAPH_OIDC_CLIENT_ID": "c"}, "must use https://"),
        ({"CASEGRAPH_OIDC_ISSUER": "id.city.example", "CASEGRAPH_OIDC_CLIENT_ID": "c"}, "issuer URL"),
        (
            {
                "CASEGRAPH_OIDC_ISSUER": "https://id.city.example",
                "CASEGRAPH_OIDC_CLIENT_ID": "c",
                "CASEGRAPH_OIDC_SCOPES": "email",
            },
            "must include openid",
        ),
        (
            {
                "CASEGRAPH_OIDC_ISSUER": "https://id.city.example",
                "CASEGRAPH_OIDC_CLIENT_ID": "c",
                "CASEGRAPH_OIDC_ROLE_MAP": "a=AGENT",
            },
            "needs CASEGRAPH_OIDC_ROLES_CLAIM",
        ),
        (
            {
                "CASEGRAPH_OIDC_ISSUER": "https://id.city.example",
                "CASEGRAPH_OIDC_CLIENT_ID": "c",
                "CASEGRAPH_OIDC_ROLES_CLAIM": "roles",
                "CASEGRAPH_OIDC_ROLE_MAP": "caseworker=WIZARD",
            },
            "provider-value=ROLE pairs",
        ),
    ],
)
def test_a_half_configured_identity_provider_is_refused_by_name(
    tmp_path: Path, env: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        Settings.from_env(env, dotenv=tmp_path / ".env")


def test_an_identity_provider_with_a_jwks_only_server_or_plain_http_in_production_refuses_to_start(
    tmp_path: Path,
) -> None:
    provider = {"CASEGRAPH_OIDC_ISSUER": "https://id.city.example", "CASEGRAPH_OIDC_CLIENT_ID": "casegraph"}
    jwks_only = Settings.from_env(
        {**provider, "CASEGRAPH_JWT_JWKS_URL": "https://id.city.example/jwks"}, dotenv=tmp_path / ".env"
    )
    assert "set CASEGRAPH_JWT_SECRET instead" in (jwks_only.startup_problem() or "")
    production = Settings.from_env(
        {
            **provider,
            "CASEGRAPH_ENV": "production",
            "CASEGRAPH_JWT_SECRET": "x" * 40,
            "CASEGRAPH_METRICS_PUBLIC": "true",
            "CASEGRAPH_PUBLIC_URL": "http://desk.city.example",
        },
        dotenv=tmp_path / ".env",
    )
    assert "https:// address of the portal" in (production.startup_problem() or "")


def test_an_attachment_bucket_and_clamd_are_read_from_their_variables(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CASEGRAPH_ATTACHMENTS_URL": "s3://city-files/casegraph/attachments/",
            "CASEGRAPH_S3_ENDPOINT_URL": "http://minio.internal:9000/",
            "CASEGRAPH_CLAMD_URL": "tcp://clamd.internal:3310",
        },
        dotenv=tmp_path / ".env",
    )
    assert settings.attachments_url == S3Location("city-files", "casegraph/attachments/")
    assert settings.s3_endpoint_url == "http://minio.internal:9000"
    assert settings.clamd_url == ClamdAddress(host="clamd.internal", port=3310)
    bare = Settings.from_env({"CASEGRAPH_ATTACHMENTS_URL": "s3://city-files"}, dotenv=tmp_path / ".env")
    assert bare.attachments_url == S3Location("city-files", "")


def test_no_attachment_settings_mean_the_directory_and_no_scanner(tmp_path: Path) -> None:
    settings = Settings.from_env({}, dotenv=tmp_path / ".env")
    assert (settings.attachments_url, settings.s3_endpoint_url, settings.clamd_url) == (None, None, None)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CASEGRAPH_ATTACHMENTS_URL", "https://city-files.s3.amazonaws.com/attachments"),
        ("CASEGRAPH_ATTACHMENTS_URL", "s3:///attachments"),
        ("CASEGRAPH_S3_ENDPOINT_URL", "minio.internal:9000"),
        ("CASEGRAPH_CLAMD_URL", "clamd.internal:3310"),
        ("CASEGRAPH_CLAMD_URL", "tcp://clamd.internal"),
    ],
)
def test_malformed_attachment_settings_are_refused_by_name(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=variable):
        Settings.from_env({variable: value}, dotenv=tmp_path / ".env")


def test_refresh_successors_are_derived_from_a_secret_the_mail_gateway_does_not_hold(tmp_path: Path) -> None:
    # given: the mail signing secret is the intake secret, which the mail gateway's operator holds
    shared = {"CASEGRAPH_INTAKE_SECRET": "i" * 40, "CASEGRAPH_JWT_SECRET": "j" * 40}
    settings = Settings.from_env(shared, dotenv=tmp_path / ".env")
    assert settings.mail_signing_secret == "i" * 40
    # then: the successor secret is neither secret, and depends on both
    assert settings.refresh_successor_secret not in {"i" * 40, "j" * 40}
    other_jwt = Settings.from_env({**shared, "CASEGRAPH_JWT_SECRET": "k" * 40}, dotenv=tmp_path / ".env")
    other_mail = Settings.from_env({**shared, "CASEGRAPH_MAIL_SECRET": "m" * 40}, dotenv=tmp_path / ".env")
    successors = {s.refresh_successor_secret for s in (settings, other_jwt, other_mail)}
    assert len(successors) == 3
