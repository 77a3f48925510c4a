"""
moto_server, with DynamoDB's per-request atomicity.

moto's server answers each request on its own thread, and its DynamoDB backend is not safe for
that: a TransactWriteItems that is cancelled (a condition failed) rolls back by putting back a
copy of every table it touched, taken when it began, so every write another thread made to
those tables in the meantime is lost; and a conditional UpdateItem checks its condition and
applies its update in two steps another thread's write can come between. DynamoDB never does
either: a transaction is all-or-nothing for its own items only, and a conditional write is
atomic (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate).
So this launcher runs DynamoDB requests one at a time; every other service keeps moto's threads.
Arguments are moto_server's own.
"""

import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_DYNAMODB = threading.RLock()
_call_action = DynamoHandler.call_action


def _one_at_a_time(self):  # type: ignore[no-untyped-def]
    with _DYNAMODB:
        return _call_action(self)


DynamoHandler.call_action = _one_at_a_time  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])
