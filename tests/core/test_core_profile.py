"""Profiles from environment variables and TOML files."""

from __future__ import annotations

from pathlib import Path

import pytest
from brokerport import InvalidRequest, Secret
from brokerport.profile import Profile

TOML = """
[fakex.default]
base_url = "https://file.example"
[fakex.default.credentials]
api_key = "file-key"
secret_key = "file-secret"
[fakex.default.options]
region = "eu"
broker_code = "B1"

[fakex.desk2]
base_url = "https://desk2.example"
[fakex.desk2.credentials]
api_key = "desk2-key"

[other.default]
base_url = "https://other.example"
"""


@pytest.fixture
def toml_file(tmp_path: Path) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


def test_load_from_env(tmp_path: Path) -> None:
    env = {
        "BROKERPORT_FAKEX_BASE_URL": "https://env.example",
        "BROKERPORT_FAKEX_CREDENTIAL_API_KEY": "env-key",
        "BROKERPORT_FAKEX_CREDENTIAL_SECRET_KEY": "env-secret",
        "BROKERPORT_FAKEX_OPTION_REGION": "us",
        "BROKERPORT_OTHER_BASE_URL": "https://nope.example",
        "UNRELATED": "x",
    }
    p = Profile.load("fakex", env=env, path=tmp_path / "missing.toml")
    assert p.vendor == "fakex" and p.name == "default"
    assert p.base_url == "https://env.example" and not p.is_sandbox
    assert set(p.credentials) == {"api_key", "secret_key"}
    assert all(isinstance(v, Secret) for v in p.credentials.values())
    assert p.credential("secret_key").reveal() == "env-secret"
    assert p.options == {"region": "us"}
    assert "env-secret" not in repr(p) and "env-key" not in repr(p)


def test_load_from_toml(toml_file: Path) -> None:
    p = Profile.load("fakex", env={}, path=toml_file)
    assert p.base_url == "https://file.example"
    assert p.credential("api_key").reveal() == "file-key"
    assert isinstance(p.credentials["secret_key"], Secret)
    assert p.option("region") == "eu" and p.option("broker_code") == "B1"
    desk2 = Profile.load("fakex", "desk2", env={}, path=toml_file)
    assert desk2.name == "desk2" and desk2.base_url == "https://desk2.example"
    assert set(desk2.credentials) == {"api_key"}


def test_config_path_from_env(toml_file: Path) -> None:
    p = Profile.load("fakex", env={"BROKERPORT_CONFIG": str(toml_file)})
    assert p.base_url == "https://file.example"
    # and the profile name from BROKERPORT_PROFILE
    p2 = Profile.load(
        "fakex", env={"BROKERPORT_CONFIG": str(toml_file), "BROKERPORT_PROFILE": "desk2"}
    )
    assert p2.name == "desk2" and p2.base_url == "https://desk2.example"


def test_env_overrides_file(toml_file: Path) -> None:
    env = {
        "BROKERPORT_FAKEX_CREDENTIAL_SECRET_KEY": "env-secret",
        "BROKERPORT_FAKEX_OPTION_REGION": "ap",
    }
    p = Profile.load("fakex", env=env, path=toml_file)
    assert p.base_url == "https://file.example"  # not overridden
    assert p.credential("api_key").reveal() == "file-key"  # from the file
    assert p.credential("secret_key").reveal() == "env-secret"  # env wins
    assert p.option("region") == "ap" and p.option("broker_code") == "B1"
    p2 = Profile.load(
        "fakex", env={"BROKERPORT_FAKEX_BASE_URL": "https://env.example"}, path=toml_file
    )
    assert p2.base_url == "https://env.example"


def test_no_base_url_means_sandbox(tmp_path: Path, toml_file: Path) -> None:
    p = Profile.load("fakex", env={}, path=tmp_path / "none.toml")
    assert p.is_sandbox and p.base_url is None and dict(p.credentials) == {}
    # an empty base URL is no base URL
    p2 = Profile.load("fakex", env={"BROKERPORT_FAKEX_BASE_URL": ""}, path=tmp_path / "none.toml")
    assert p2.is_sandbox
    # a vendor not in the file
    assert Profile.load("absent", env={}, path=toml_file).is_sandbox
    sb = p.with_sandbox("http://127.0.0.1:1234", {"api_key": "sandbox-key"})
    assert sb.base_url == "http://127.0.0.1:1234" and not sb.is_sandbox
    assert sb.credential("api_key").reveal() == "sandbox-key"
    # credentials the host set win over the sandbox's
    mine = Profile(vendor="fakex", credentials={"api_key": "mine"})
    assert mine.with_sandbox("http://h", {"api_key": "sb"}).credential("api_key").reveal() == "mine"


def test_bad_toml_is_invalid_request(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[fakex.default\nbase_url = ", encoding="utf-8")
    with pytest.raises(InvalidRequest, match="cannot read profile file"):
        Profile.load("fakex", env={}, path=bad)


def test_missing_credential_and_options() -> None:
    p = Profile(vendor="fakex", credentials={"a": "1"}, options={"n": 5})
    assert p.options == {"n": "5"}
    with pytest.raises(InvalidRequest, match="lacks credential 'b'") as info:
        p.credential("b")
    assert info.value.vendor == "fakex"
    assert p.option("zzz") is None and p.option("zzz", "d") == "d"
    # Secrets passed in stay the same Secret
    s = Secret("v")
    assert Profile(vendor="fakex", credentials={"k": s}).credentials["k"] is s


def test_profile_is_frozen() -> None:
    import attrs

    p = Profile(vendor="fakex")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        p.base_url = "http://x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        'fakex = "oops"\n',
        '[fakex]\ndefault = "oops"\n',
        '[fakex.default]\ncredentials = "api_key"\n',
        '[fakex.default]\nbase_url = "https://x"\noptions = [1, 2]\n',
    ],
)
def test_malformed_profile_is_invalid_request_not_sandbox(tmp_path: Path, text: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidRequest, match="malformed"):
        Profile.load("fakex", env={}, path=path)
