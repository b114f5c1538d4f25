"""botocore failures → AwsError messages that say which account and role, what failed, and the fix."""

from __future__ import annotations

import os

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from tfgen.errors import TfgenError

_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "AuthFailure",
}
# What an endpoint answers for an operation it does not have (moto: HTTP 500 with an HTML body,
# which botocore reports with the status as the code; real AWS: UnknownOperationException).
_UNSUPPORTED = {"UnknownOperationException", "InvalidAction", "NotImplemented", "500", "501"}


NO_CREDENTIALS = (
    "no AWS credentials were found; set AWS_PROFILE or pass --profile, or export "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


class AwsError(TfgenError):
    """AWS refused a call or could not be reached; the message names the account and role."""


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def is_unsupported(exc: BaseException) -> bool:
    """True when the endpoint does not implement the operation at all (not a permission problem)."""
    return error_code(exc) in _UNSUPPORTED


def explain(exc: Exception, doing: str) -> AwsError:
    """An AwsError for `exc`; `doing` says what was attempted, e.g. "reading prod/us-east-1 (...)"."""
    code = error_code(exc)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        reason = NO_CREDENTIALS
    elif isinstance(exc, ProfileNotFound):
        reason = f"{exc}; list the profiles with 'aws configure list-profiles'"
    elif isinstance(exc, (TokenRetrievalError, SSOTokenLoadError, UnauthorizedSSOTokenError)):
        reason = (
            f"the login session has expired or is missing ({exc}); run 'aws sso login' and retry"
        )
    elif code in _EXPIRED:
        reason = "the AWS credentials have expired; refresh them (e.g. 'aws sso login') and retry"
    elif code in _DENIED:
        reason = f"access denied ({code}: {_message(exc)})"
    elif isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        where = f" (AWS_ENDPOINT_URL is {endpoint})" if endpoint else ""
        reason = f"cannot reach AWS{where}: {exc}"
    elif isinstance(exc, ClientError):
        reason = f"AWS answered {code}: {_message(exc)}"
    elif isinstance(exc, BotoCoreError):
        reason = str(exc)
    else:
        raise exc
    return AwsError(f"{doing}: {reason}")


def _message(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", "")).strip() or str(exc)
    return str(exc)


__all__ = ["NO_CREDENTIALS", "AwsError", "error_code", "explain", "is_unsupported"]
