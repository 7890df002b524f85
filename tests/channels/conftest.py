"""Fixtures of the channel tests: fake platforms on localhost, and one running assistant with every
channel enabled from the shipped ``credentials.channels.yml`` (secrets from the environment)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from bot.channels import fakes
from bot.settings import PROJECT_ROOT
from bot.stack import BIN, Stack

REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def latest_model() -> str:
    from rasa.model import get_latest_model

    model = get_latest_model(str(PROJECT_ROOT / "models"))
    if model is None:
        pytest.fail("no trained model: `make test` trains one first")
    return model


@pytest.fixture(scope="session")
def demo_db(catalogue_db, tmp_path_factory):
    """The imported catalogue plus the demo dossiers: (database URL, a dossier code, its 4 digits)."""
    source = Path(catalogue_db.split(":///", 1)[1])
    target = tmp_path_factory.mktemp("channels-db") / "bot.db"
    shutil.copy(source, target)
    url = f"sqlite+aiosqlite:///{target}"
    done = subprocess.run(
        [str(BIN / "bot"), "dossiers", "demo", "--count", "40", "--database-url", url],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "REDIS_URL": ""},
    )
    assert done.returncode == 0, done.stderr
    match = re.search(r"dossier code (\S+), last 4 digits of the phone (\d{4})", done.stdout)
    assert match, done.stdout
    return url, match.group(1), match.group(2)


@pytest.fixture(scope="session")
def platforms():
    with fakes.FakePlatforms(zalo_refresh_token="zr-0") as fake:
        yield fake


def channel_env(fake: fakes.FakePlatforms, state_dir: Path, **extra: str) -> dict:
    from bot.stack import free_port

    return {
        "ZALO_WEBHOOK_PORT": str(free_port()),
        "ZALO_WEBHOOK_HOST": "127.0.0.1",
        "ZALO_APP_ID": fakes.ZALO_APP_ID,
        "ZALO_APP_SECRET": fakes.ZALO_APP_SECRET,
        "ZALO_OA_SECRET_KEY": fakes.ZALO_OA_SECRET_KEY,
        "ZALO_REFRESH_TOKEN": "zr-0",
        "MESSENGER_VERIFY_TOKEN": fakes.MESSENGER_VERIFY_TOKEN,
        "MESSENGER_APP_SECRET": fakes.MESSENGER_APP_SECRET,
        "MESSENGER_PAGE_ACCESS_TOKEN": fakes.MESSENGER_PAGE_TOKEN,
        "ZALO_API_BASE": fake.url,
        "ZALO_OAUTH_BASE": fake.url,
        "GRAPH_API_BASE": fake.url,
        "ZALO_TOKEN_FILE": str(state_dir / "zalo_tokens.json"),
        "REDIS_URL": "",
        **extra,
    }


def zalo_listener_url(stack) -> str:
    return f"http://127.0.0.1:{stack.env['ZALO_WEBHOOK_PORT']}/webhooks/zalo/webhook"


def wait_for_zalo_listener(stack) -> None:
    from bot.stack import wait_http

    wait_http(zalo_listener_url(stack).rsplit("/", 1)[0] + "/", timeout=30)


@pytest.fixture(scope="session")
def channel_stack(demo_db, platforms, tmp_path_factory):
    """Rasa + action server with REST, socket.io, Zalo and Messenger (credentials.channels.yml)."""
    url, _, _ = demo_db
    state = tmp_path_factory.mktemp("channel-state")
    credentials = (PROJECT_ROOT / "credentials.channels.yml").read_text("utf-8")
    env = channel_env(platforms, state, DATABASE_URL=url)
    with Stack(model=latest_model(), env=env, credentials=credentials,
               log_dir=tmp_path_factory.mktemp("channel-stack"), rasa_args=["--cors", "*"]) as stack:
        stack.state_dir = state
        wait_for_zalo_listener(stack)
        yield stack


@pytest.fixture
def redis_url():
    """A reachable test Redis (skipped, or failed with REQUIRE_SERVICES=1, when there is none)."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as error:  # noqa: BLE001
        if require_services():
            pytest.fail(f"Redis unreachable at {REDIS_TEST_URL} and REQUIRE_SERVICES=1: {error}")
        pytest.skip(f"Redis unreachable at {REDIS_TEST_URL}: {error}")
    finally:
        client.close()
    return REDIS_TEST_URL


@pytest.fixture(scope="session")
def model_domain() -> dict:
    """The domain the trained model was built with."""
    import tarfile

    import yaml

    with tarfile.open(latest_model()) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("domain_provider/domain.yml"))
        return yaml.safe_load(archive.extractfile(member).read())


@pytest.fixture
def trained_with(model_domain):
    """Fails clearly when the model predates a part of the domain a test needs (``make train``)."""

    def check(*names: str) -> None:
        known = set(model_domain.get("forms") or {})
        known |= {next(iter(i)) if isinstance(i, dict) else i for i in model_domain.get("intents") or []}
        missing = [name for name in names if name not in known]
        if missing:
            pytest.fail(f"the model in models/ was trained before {missing} existed: run `make train` "
                        "(`make test` does it)")

    return check


class RasaReplica:
    """One more Rasa server (with the channels) next to a running stack, using its action server:
    what a second replica behind the same webhook address is."""

    def __init__(self, stack, env: dict, credentials: str, log_dir: Path) -> None:
        from bot.stack import free_port

        self.rasa_port = free_port()
        self.env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
        self.log_dir = log_dir
        (log_dir / "credentials.yml").write_text(credentials, encoding="utf-8")
        self.args = [str(BIN / "rasa"), "run", "--enable-api", "--port", str(self.rasa_port),
                     "--model", latest_model(), "--endpoints", str(stack.log_dir / "endpoints.yml"),
                     "--credentials", str(log_dir / "credentials.yml")]
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def start(self) -> "RasaReplica":
        from bot.stack import wait_http

        log = open(self.log_dir / "rasa.log", "ab")
        self.process = subprocess.Popen(self.args, cwd=PROJECT_ROOT, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        wait_http(f"{self.url}/status", process=self.process)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
