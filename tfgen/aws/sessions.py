"""One boto3 session per account: the ambient credentials (or --profile), through the account's role.

Endpoints come from boto3 itself, so AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) point every
client at another endpoint, such as a moto server in the tests. Sessions and clients are made under
a lock (boto3 sessions are not thread-safe); the clients themselves are shared between threads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tfgen import __version__
from tfgen.aws.errors import NO_CREDENTIALS, AwsError, explain
from tfgen.state import AccountState

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_sts import STSClient

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    user_agent_extra=f"tfgen/{__version__}",
    connect_timeout=10,
    read_timeout=60,
)
# The one check before any registry is read: who the credentials are, asked once, with short
# timeouts and one retry, so an unreachable endpoint is one message within seconds, not a
# silent wait per registry (each of which retries with the timeouts above).
_PREFLIGHT = Config(
    retries={"mode": "standard", "max_attempts": 2},
    user_agent_extra=f"tfgen/{__version__}",
    connect_timeout=5,
    read_timeout=15,
)


def bounded(config: Config, timeout: float | None) -> Config:
    """`config` with no single call allowed longer than `timeout` seconds (--timeout)."""
    if timeout is None:
        return config
    given = vars(config)  # botocore's Config keeps its options as attributes
    return config.merge(
        Config(
            connect_timeout=min(timeout, given["connect_timeout"]),
            read_timeout=min(timeout, given["read_timeout"]),
        )
    )


def check_reachable(session: boto3.Session, partition: str, timeout: float | None) -> None:
    """Ask STS who the credentials are: fails once, up front, when AWS cannot be reached or the
    credentials are refused or expired."""
    try:
        sts: STSClient = session.client(
            "sts", region_name=home_region(partition), config=bounded(_PREFLIGHT, timeout)
        )
        sts.get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        raise explain(exc, "checking the AWS credentials before reading anything") from None


# STS and Organizations are called in one Region per partition.
_HOME_REGION = {"aws": "us-east-1", "aws-cn": "cn-northwest-1", "aws-us-gov": "us-gov-west-1"}


def home_region(partition: str) -> str:
    return _HOME_REGION.get(partition, "us-east-1")


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a session acts as, for messages."""

    account: str
    account_id: str
    role_arn: str | None

    def describe(self) -> str:
        role = f" as role {self.role_arn}" if self.role_arn else " with the ambient credentials"
        return f"account '{self.account}' ({self.account_id}){role}"


class Sessions:
    """Sessions for the accounts of a compiled spec, opened on first use and then reused."""

    def __init__(
        self,
        accounts: Mapping[str, AccountState],
        *,
        profile: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self._accounts = dict(accounts)
        self._timeout = timeout
        self._config = bounded(_CONFIG, timeout)
        self._by_id = {a.account_id: a.name for a in accounts.values()}
        self._profile = profile
        self._lock = threading.Lock()
        self._base: boto3.Session | None = None
        self._sessions: dict[str, boto3.Session | AwsError] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}

    def name_of(self, account_id: str) -> str | None:
        return self._by_id.get(account_id)

    def identity(self, account: str) -> Identity:
        a = self._accounts[account]
        return Identity(a.name, a.account_id, a.role_arn)

    def ecr(self, account: str, region: str, *, attempts: int | None = None) -> ECRClient:
        """The account's ECR client in a Region; `attempts` overrides the retry count."""
        key = (account, f"ecr/{attempts}", region)
        config = self._config
        if attempts is not None:
            config = config.merge(Config(retries={"mode": "standard", "max_attempts": attempts}))
        with self._lock:
            if key not in self._clients:
                session = self._session(account)
                self._clients[key] = session.client("ecr", region_name=region, config=config)
            client: ECRClient = self._clients[key]
            return client

    def base(self) -> boto3.Session:
        """The session of the ambient credentials (or --profile). Call with the lock held."""
        if self._base is None:
            try:
                self._base = boto3.Session(profile_name=self._profile)
            except BotoCoreError as exc:
                raise explain(exc, "opening the AWS session") from None
        return self._base

    def _session(self, account: str) -> boto3.Session:
        cached = self._sessions.get(account)
        if cached is None:
            try:
                cached = self._open(self._accounts[account])
            except AwsError as exc:
                cached = exc
            self._sessions[account] = cached  # a failure is reported once, not per Region
        if isinstance(cached, AwsError):
            raise cached
        return cached

    def preflight(self) -> None:
        """Fail once, up front, when there are no credentials, or AWS cannot be reached, or it
        refuses them (rather than once per registry, after every registry's retries)."""
        with self._lock:
            try:
                credentials = self.base().get_credentials()
            except BotoCoreError as exc:
                raise explain(exc, "loading the AWS credentials") from None
            if credentials is None:
                raise AwsError(NO_CREDENTIALS)
            base = self.base()
        partitions = sorted({a.partition for a in self._accounts.values()}) or ["aws"]
        check_reachable(base, partitions[0], self._timeout)

    def _open(self, account: AccountState) -> boto3.Session:
        who = self.identity(account.name)
        name = f"account '{account.name}' ({account.account_id})"
        region = home_region(account.partition)
        session = self.base()
        if account.role_arn is not None:
            session = assume_role(
                session, account.role_arn, f"tfgen-{account.name}", region, name, self._config
            )
        try:
            sts: STSClient = session.client("sts", region_name=region, config=self._config)
            actual = sts.get_caller_identity()["Account"]
        except (BotoCoreError, ClientError) as exc:
            raise explain(exc, f"checking the credentials for {who.describe()}") from None
        if actual == account.account_id:
            return session
        if account.role_arn:
            raise AwsError(
                f"role {account.role_arn} for {name} gives credentials of account {actual}; "
                "check the role ARN"
            )
        raise AwsError(
            f"the ambient credentials used for {name} belong to account {actual}; give the "
            "account a role_arn (or set defaults.role_arn), or use credentials of that account "
            "(--profile)"
        )


def assume_role(
    session: boto3.Session,
    role_arn: str,
    session_name: str,
    region: str,
    who: str,
    config: Config = _CONFIG,
) -> boto3.Session:
    """A session with the role's temporary credentials (valid for the STS default of one hour)."""
    try:
        sts: STSClient = session.client("sts", region_name=region, config=config)
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])["Credentials"]
    except (BotoCoreError, ClientError) as exc:
        error = explain(exc, f"assuming role {role_arn} for {who}")
        raise AwsError(
            f"{error}. The calling identity needs sts:AssumeRole on it and the role's trust "
            "policy must trust that identity"
            if "access denied" in str(error)
            else str(error)
        ) from None
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def organizations_client(
    *,
    profile: str | None,
    role_arn: str | None,
    partition: str = "aws",
    timeout: float | None = None,
) -> OrganizationsClient:
    """A client for the Organizations API (the management or a delegated administrator account),
    after one check that AWS answers and takes the credentials."""
    try:
        session = boto3.Session(profile_name=profile)
    except BotoCoreError as exc:
        raise explain(exc, "opening the AWS session") from None
    if session.get_credentials() is None:
        raise AwsError(NO_CREDENTIALS)
    check_reachable(session, partition, timeout)
    region = session.region_name or home_region(partition)
    config = bounded(_CONFIG, timeout)
    if role_arn is not None:
        session = assume_role(
            session, role_arn, "tfgen-lock", region, "reading AWS Organizations", config
        )
    client: OrganizationsClient = session.client("organizations", region_name=region, config=config)
    return client


__all__ = [
    "Identity",
    "Sessions",
    "assume_role",
    "bounded",
    "check_reachable",
    "home_region",
    "organizations_client",
]
