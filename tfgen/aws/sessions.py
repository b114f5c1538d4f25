"""The clients of each account: the ambient credentials (or --profile), through the account's role.

Endpoints come from boto3 itself, so AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) point every
client at another endpoint, such as a moto server in the tests. Clients are made under a lock (boto3
sessions are not thread-safe); the clients themselves are shared between threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
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
    """Clients for the accounts of a compiled spec, each account's role assumed on first use.

    Every client comes from the one session of the ambient credentials (or --profile), given the
    account's temporary credentials: a boto3 session per account would load the service models
    and endpoint data again for each (about 10 MB and a quarter second per account, found at a
    hundred accounts). Only the credentials are kept per account; the clients are kept for the
    most recently used registries (`MAX_CLIENTS`), so memory stays flat at 10,000 accounts.
    """

    MAX_CLIENTS = 256

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
        self._lock = threading.Lock()  # the base session, the caches
        self._opening: dict[str, threading.Lock] = {}  # per account: its role assumed once
        self._base: boto3.Session | None = None
        self._keys: dict[str, _Keys | AwsError] = {}
        self._clients: OrderedDict[tuple[str, str, str], Any] = OrderedDict()

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
            client: ECRClient | None = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
        keys = self._credentials(account)  # outside the lock: other accounts go on meanwhile
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._client("ecr", region, config, keys)
                self._clients[key] = client
                while len(self._clients) > self.MAX_CLIENTS:
                    self._clients.popitem(last=False)
            return client

    def base(self) -> boto3.Session:
        """The session of the ambient credentials (or --profile). Call with the lock held."""
        if self._base is None:
            try:
                self._base = boto3.Session(profile_name=self._profile)
            except BotoCoreError as exc:
                raise explain(exc, "opening the AWS session") from None
        return self._base

    def _client(self, service: str, region: str, config: Config, keys: _Keys | None) -> Any:
        """A client of the base session (its models shared), with `keys` when given. Call with
        the lock held: boto3 sessions are not thread-safe."""
        base: Any = self.base()  # boto3's stubs type client() per literal service name
        if keys is None:
            return base.client(service, region_name=region, config=config)
        return base.client(
            service,
            region_name=region,
            config=config,
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
        )

    def _credentials(self, account: str) -> _Keys | None:
        """The account's temporary credentials (None: the ambient ones), opened once; a failure
        is reported once, not per Region."""
        with self._lock:
            opening = self._opening.setdefault(account, threading.Lock())
        with opening:
            cached = self._keys.get(account)
            if cached is None:
                try:
                    cached = self._open(self._accounts[account])
                except AwsError as exc:
                    cached = exc
                self._keys[account] = cached
        if isinstance(cached, AwsError):
            raise cached
        return None if cached is _AMBIENT else cached

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

    def _open(self, account: AccountState) -> _Keys:
        """Assume the account's role (or take the ambient credentials) and check that they are
        the account's: the assumed role's ARN names its account, as GetCallerIdentity would."""
        who = self.identity(account.name)
        name = f"account '{account.name}' ({account.account_id})"
        region = home_region(account.partition)
        if account.role_arn is None:
            with self._lock:
                sts: STSClient = self._client("sts", region, self._config, None)
            try:
                actual = sts.get_caller_identity()["Account"]
            except (BotoCoreError, ClientError) as exc:
                raise explain(exc, f"checking the credentials for {who.describe()}") from None
            if actual == account.account_id:
                return _AMBIENT
            raise AwsError(
                f"the ambient credentials used for {name} belong to account {actual}; give the "
                "account a role_arn (or set defaults.role_arn), or use credentials of that "
                "account (--profile)"
            )
        with self._lock:
            sts = self._client("sts", region, self._config, None)
        keys, actual = _assume(sts, account.role_arn, f"tfgen-{account.name}", name)
        if actual != account.account_id:
            raise AwsError(
                f"role {account.role_arn} for {name} gives credentials of account {actual}; "
                "check the role ARN"
            )
        return keys


@dataclass(frozen=True, slots=True)
class _Keys:
    """Temporary credentials of a role (valid for the STS default of one hour)."""

    access_key_id: str
    secret_access_key: str
    session_token: str


_AMBIENT = _Keys("", "", "")  # the account is the ambient credentials' own


def _assume(sts: STSClient, role_arn: str, session_name: str, who: str) -> tuple[_Keys, str]:
    """The role's credentials, and the account they belong to (its assumed-role ARN's)."""
    try:
        found = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])
    except (BotoCoreError, ClientError) as exc:
        error = explain(exc, f"assuming role {role_arn} for {who}")
        raise AwsError(
            f"{error}. The calling identity needs sts:AssumeRole on it and the role's trust "
            "policy must trust that identity"
            if "access denied" in str(error)
            else str(error)
        ) from None
    creds = found["Credentials"]
    keys = _Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    return keys, found["AssumedRoleUser"]["Arn"].split(":")[4]


def assume_role(
    session: boto3.Session,
    role_arn: str,
    session_name: str,
    region: str,
    who: str,
    config: Config = _CONFIG,
) -> boto3.Session:
    """A session with the role's temporary credentials (valid for the STS default of one hour)."""
    sts: STSClient = session.client("sts", region_name=region, config=config)
    keys, _ = _assume(sts, role_arn, session_name, who)
    return boto3.Session(
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        aws_session_token=keys.session_token,
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
