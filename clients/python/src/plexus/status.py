"""Status codes (gRPC's 17, same numbers) and the exception calls raise."""
import enum


class StatusCode(enum.IntEnum):
    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @classmethod
    def of(cls, value):
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


class RpcError(Exception):
    """A call ended with a status other than OK: `.code` (StatusCode), `.message` (str),
    `.trailers` ([(key, str|bytes)]) and `.details` ([google.protobuf.Any] from the Status)."""

    def __init__(self, code, message="", trailers=None, details=None):
        super().__init__(f"{StatusCode.of(code).name}: {message}")
        self.code = StatusCode.of(code)
        self.message = message
        self.trailers = trailers or []
        self.details = details or []
