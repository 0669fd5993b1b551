"""Verify past one machine: smtpcheck on a Dask cluster, polite across the whole cluster.

Install it with the ``distributed`` extra (``pip install 'smtpcheck[distributed]'``:
dask's DataFrame and its distributed scheduler). ``import smtpcheck`` never imports it.

::

    import dask.dataframe as dd
    from distributed import Client
    from smtpcheck.distributed import verify_dataframe

    client = Client("tcp://scheduler:8786")
    people = dd.read_csv("signups-*.csv")
    checked = verify_dataframe(people, column="email", policy=policy)   # lazy
    checked.to_parquet("out/")

The addresses of one mail host are verified in one place (the domain's first mail host,
looked up once per domain in a step of its own, is the partition key); each worker
brings its own identity (:class:`WorkerIdentity`: source address, HELO name, MAIL FROM,
proxy) and refuses the work when it is unfit (:class:`UnfitWorker`). See the guide page
"Verifying past one machine".
"""

from __future__ import annotations

try:
    import dask.dataframe  # noqa: F401 - fail here, with the way out, when it is missing
    import distributed  # noqa: F401
except ImportError as error:  # pragma: no cover - CI installs the extra
    raise ImportError(
        f"smtpcheck.distributed needs the distributed extra: "
        f"pip install 'smtpcheck[distributed]' ({error})"
    ) from error

from smtpcheck._public import publish as _publish
from smtpcheck.distributed._admission import ClusterAdmission, WorkerAdmission
from smtpcheck.distributed._frame import (
    PartitionBy,
    SchedulerUnreachable,
    connect,
    verify_dataframe,
    verify_many,
)
from smtpcheck.distributed._identity import UnfitWorker, WorkerIdentities, WorkerIdentity
from smtpcheck.distributed._work import RESULT_COLUMNS, Egress

__all__ = [
    "RESULT_COLUMNS",
    "ClusterAdmission",
    "Egress",
    "PartitionBy",
    "SchedulerUnreachable",
    "UnfitWorker",
    "WorkerAdmission",
    "WorkerIdentities",
    "WorkerIdentity",
    "connect",
    "verify_dataframe",
    "verify_many",
]

for _name in __all__:
    _publish(__name__, globals()[_name])  # classes and functions; constants stay as they are
del _name
