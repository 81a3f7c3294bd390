"""GET /metrics in the Prometheus text format, read back by the Prometheus client's own parser:
requests by route and status, latency, predictions by decision, the served model, and
prediction-log write failures; with two worker processes a scrape sees both workers' figures."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import server_log, start_server, wait_ready
from tests.test_api import _client, started  # noqa: F401  (the fixture)


def _samples(text):
    """{(name, frozenset(labels)): value} from a scrape."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_scrape_counts_requests_predictions_and_names_the_model(
    started,  # noqa: F811
    model_files,
    tmp_path,
):
    folder, record = model_files
    client = started(_client(folder))
    records = [{**record, "customerID": f"c{i}"} for i in range(5)]
    assert client.post("/predict", json=records).status_code == 200
    assert client.post("/predict", json={**record, "tenure": "many"}).status_code == 422
    assert (
        client.post("/predict", content=b"x", headers={"content-type": "text/plain"}).status_code
        == 415
    )
    assert client.get("/no/such/route").status_code == 404
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    samples = _samples(answer.text)
    assert (
        samples[("churnops_requests_total", frozenset({("route", "/predict"), ("status", "200")}))]
        == 1
    )
    assert (
        samples[("churnops_requests_total", frozenset({("route", "/predict"), ("status", "422")}))]
        == 1
    )
    assert (
        samples[("churnops_requests_total", frozenset({("route", "/predict"), ("status", "415")}))]
        == 1
    )
    assert (
        samples[("churnops_requests_total", frozenset({("route", "other"), ("status", "404")}))]
        == 1
    )
    predicted = sum(
        v for (name, labels), v in samples.items()
        if name == "churnops_predictions_total" and ("arm", "none") in labels
    )  # fmt: skip
    assert predicted == 5
    assert (
        samples[("churnops_request_latency_seconds_count", frozenset({("route", "/predict")}))] == 3
    )
    version = client.get("/model").json()["model_version"]
    info = [
        labels for (name, labels), v in samples.items() if name == "churnops_model_info" and v == 1
    ]
    assert dict(info[0])["version"] == version
    assert samples[("churnops_log_write_failures_total", frozenset())] == 0


def test_log_write_failures_are_counted(started, model_files, tmp_path):  # noqa: F811
    folder, record = model_files
    client = started(_client(folder, log_path=tmp_path / "log.sqlite"))
    client.app.state.service.log.close()  # the log goes away under the running service
    assert client.post("/predict", json=record).status_code == 503
    samples = _samples(client.get("/metrics").text)
    assert samples[("churnops_log_write_failures_total", frozenset())] == 1


def test_two_workers_report_together(model_files, tmp_path):
    folder, record = model_files
    server, url = start_server(folder, tmp_path, {"CHURNOPS_WORKERS": "2"})
    try:
        wait_ready(url, server)
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in range(40):  # new connections: both workers take some
                assert (
                    httpx.post(f"{url}/predict", json={**record, "customerID": f"c{i}"}).status_code
                    == 200
                )
            samples = _samples(client.get("/metrics").text)
    finally:
        server.terminate()
        server.wait(timeout=30)
    served = samples[
        ("churnops_requests_total", frozenset({("route", "/predict"), ("status", "200")}))
    ]
    assert served == 40, server_log(server)
    # the model gauge is kept per live process: one sample per worker, each with its pid
    pids = {
        dict(labels)["pid"]
        for (name, labels), _ in samples.items()
        if name == "churnops_model_info"
    }
    assert len(pids) == 2, samples
