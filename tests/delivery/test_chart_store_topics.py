"""kafka.storeTopics in charts/qsr-platform: ordering and the hub get the store topics to follow
(`QSR_*_STORE_TOPICS`), hub-ingest does not (it has no Kafka egress), and a name that is not a
store topic is refused by the values schema."""

from __future__ import annotations

from typing import Any

from tests.delivery.chart import Manifest, helm, named, render, template_args

TOPICS = ["qsr.brand-a.crispin-rewards.stores", "qsr.brand-b.*.stores"]


def env_of(manifests: list[Manifest], deployment: str) -> dict[str, Any]:
    spec = named(manifests, "Deployment", deployment)["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return {env["name"]: env.get("value") for env in container["env"]}


def test_ordering_and_the_hub_follow_the_listed_store_topics() -> None:
    manifests = render("--set", "kafka.storeTopics={" + ",".join(TOPICS) + "}")
    assert env_of(manifests, "qsr-ordering")["QSR_ORDERING_STORE_TOPICS"] == ",".join(TOPICS)
    assert env_of(manifests, "qsr-hub")["QSR_HUB_STORE_TOPICS"] == ",".join(TOPICS)
    assert "QSR_HUB_STORE_TOPICS" not in env_of(manifests, "qsr-hub-ingest")


def test_no_store_topics_by_default() -> None:
    manifests = render()
    assert "QSR_ORDERING_STORE_TOPICS" not in env_of(manifests, "qsr-ordering")
    assert "QSR_HUB_STORE_TOPICS" not in env_of(manifests, "qsr-hub")


def test_a_name_that_is_not_a_store_topic_is_refused() -> None:
    result = helm(
        *template_args("--set", "kafka.storeTopics={qsr.brand-a.crispin-rewards.orders}"),
        check=False,
    )
    assert result.returncode != 0
    assert "storeTopics" in result.stderr
