"""The Dask recipe (chatbot.cluster) on a local cluster of two worker processes: the records
are the bot's own, in order, and each worker builds its bot once. Needs the dask extra."""

import json

import pytest

from chatbot import cluster

from .conftest import DATA


def questions(n):
    lines = (DATA / "questions.tsv").read_text(encoding="utf-8").splitlines()[1:]
    asked = [line.split("\t", 1)[1] for line in lines]
    return [asked[i % len(asked)] for i in range(n)] + ["", "あ" * 1001]


def test_answer_partition_is_the_bots_records_in_order(bot):
    asked = questions(20)
    assert cluster.answer_partition(asked, top_k=2) == [bot.answer(q, top_k=2).to_dict(2) for q in asked]
    assert cluster.worker_bot() is cluster.worker_bot()


def test_a_local_dask_cluster_answers_a_bag_with_one_bot_per_worker(bot):
    db = pytest.importorskip("dask.bag")
    distributed = pytest.importorskip("dask.distributed")
    asked = questions(400)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as local, distributed.Client(local) as client:
        records = cluster.answer_bag(db.from_sequence(asked, npartitions=8), top_k=3).compute()
        built = client.run(cluster.loads)  # worker address -> {kb: bots built}
    expected = [bot.answer(q, top_k=3).to_dict(3) for q in asked]
    assert json.loads(json.dumps(records)) == json.loads(json.dumps(expected))
    assert len(records) == len(asked) and [r["reason"] is not None for r in records[-2:]] == [True, True]
    assert len(built) == 2
    assert all(counts in ({}, {None: 1}) for counts in built.values())
    assert any(counts == {None: 1} for counts in built.values())
