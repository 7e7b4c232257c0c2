"""Send a batch of texts to the worker of camb_worker.py and wait until every text has an outcome.

    python enqueue.py 100 [BATCH]

The batch's name, BATCH or a random one, is its arq job id: sending a batch twice runs it
once. It prints how many texts ended with each status; the outcomes themselves are in
Redis (see camb_worker.py).
"""

from __future__ import annotations

import sys
import uuid

import anyio
from arq import create_pool
from arq.jobs import Job
from camb_worker import WorkerSettings


async def main(count: int, batch: str) -> None:
    texts = [f"Sentence {index + 1} of batch {batch}." for index in range(count)]
    redis = await create_pool(WorkerSettings.redis_settings)
    try:
        job = await redis.enqueue_job("speak", batch, texts, _job_id=batch) or Job(batch, redis)
        print(f"batch {batch}: {count} texts sent", flush=True)
        print(f"batch {batch}: done {await job.result(timeout=None)}")
    finally:
        await redis.aclose()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    count = int(arguments[0]) if arguments else 10
    anyio.run(main, count, arguments[1] if len(arguments) > 1 else uuid.uuid4().hex)
