#!/usr/bin/env python3
"""Grafana dashboards as code: writes dashboards/*.json from the panel lists below.

Run it after editing (python3 deploy/grafana/generate.py); the JSON files are committed so
Grafana provisioning and the Kubernetes ConfigMap need nothing but them. Every query here is
evaluated against live services by e2e/ObservabilityIT, so a renamed metric fails the build.
"""
import json
import pathlib

OUT = pathlib.Path(__file__).parent / "dashboards"
RECORDING = 'cache="recording"'
ARTIFACT = 'cache="artifact"'
ARTIFACT_STORE = 'store="artifact"'

DASHBOARDS = {
    "reprise-overview": ("Reprise: overview", [
        ("stat", "Hit rate (1 h)", ["reprise:cache_hit_ratio:rate1h"], "percentunit"),
        ("stat", "Build time saved (1 h)", ["sum(increase(reprise_cache_saved_seconds_total[1h]))"], "s"),
        ("stat", "Money saved (1 h)", ["sum by (currency) (increase(reprise_cache_saved_money_total[1h]))"], "currencyUSD"),
        ("timeseries", "Hit rate", [f'sum(rate(reprise_cache_requests_total{{{RECORDING},result=~"hit|stale"}}[5m]))'
                                    f' / clamp_min(sum(rate(reprise_cache_requests_total{{{RECORDING}}}[5m])), 1e-9)'], "percentunit"),
        ("timeseries", "Cache requests by result", [f"sum by (result) (rate(reprise_cache_requests_total{{{RECORDING}}}[5m]))"], "reqps"),
        ("timeseries", "Live builds by status", ["sum by (status) (increase(reprise_runner_builds_total[1h]))"], "short"),
        ("timeseries", "Live build duration p50 / p99", ["histogram_quantile(0.5, sum by (le) (rate(reprise_runner_build_duration_seconds_bucket[1h])))",
                                                        "histogram_quantile(0.99, sum by (le) (rate(reprise_runner_build_duration_seconds_bucket[1h])))"], "s"),
    ]),
    "reprise-replay": ("Reprise: record and replay", [
        ("timeseries", "Replays per second", ["sum(rate(reprise_replay_replays_total[5m]))"], "reqps"),
        ("timeseries", "Open WebSockets (live and replay)", ["sum by (service) (http_server_websocket_connections_seconds_active_count)"], "short"),
        ("timeseries", "Live delay, runner to WebSocket, p50 / p99", ["histogram_quantile(0.5, sum by (le) (rate(reprise_live_delay_seconds_bucket[1h])))",
                                                                    "histogram_quantile(0.99, sum by (le) (rate(reprise_live_delay_seconds_bucket[1h])))"], "s"),
        ("timeseries", "Replay errors (10 min)", ["sum by (reason) (increase(reprise_replay_errors_total[10m]))"], "short"),
        ("timeseries", "Recordings stored (1 h)", ["sum by (status) (increase(reprise_recordings_stored_total[1h]))"], "short"),
        ("timeseries", "Entries per store", ["sum by (store) (reprise_cache_entries)"], "short"),
        ("timeseries", "Bytes stored per store", ["sum by (store) (reprise_cache_stored_bytes)"], "bytes"),
        ("timeseries", "Evictions and invalidations (1 h)", ["sum by (reason) (increase(reprise_cache_evictions_total[1h]))",
                                                            "sum(increase(reprise_cache_invalidations_total[1h]))"], "short"),
    ]),
    "reprise-artifacts": ("Reprise: artifact store", [
        ("stat", "Artifact hit rate (1 h)", ["reprise:artifact_hit_ratio:rate1h"], "percentunit"),
        ("stat", "Bytes stored", [f"sum(reprise_cache_stored_bytes{{{ARTIFACT_STORE}}})"], "bytes"),
        ("stat", "Blobs quarantined (1 h)", ["reprise:artifact_quarantined:increase1h"], "short"),
        ("timeseries", "Hit rate by protocol", [f'sum by (protocol) (rate(reprise_cache_requests_total{{{ARTIFACT},result="hit"}}[5m]))'
                                               f" / clamp_min(sum by (protocol) (rate(reprise_cache_requests_total{{{ARTIFACT}}}[5m])), 1e-9)"],
         "percentunit"),
        ("timeseries", "Lookups by protocol and result", [f"sum by (protocol, result) (rate(reprise_cache_requests_total{{{ARTIFACT}}}[5m]))"], "reqps"),
        ("timeseries", "Transfer", ["sum by (direction) (rate(reprise_artifact_transfer_bytes_total[5m]))"], "Bps"),
        ("timeseries", "Entries and blobs", [f"sum(reprise_cache_entries{{{ARTIFACT_STORE}}})", "sum(reprise_artifact_blobs)"], "short"),
        ("timeseries", "Evictions by reason (1 h)", [f"sum by (reason) (increase(reprise_cache_evictions_total{{{ARTIFACT_STORE}}}[1h]))"], "short"),
        # Dependency caches (seed 004): hit rate overall and per repository (top N, then "other"), time saved, age, growth.
        ("stat", "Dependency hit rate (1 h)", ["reprise:dependency_hit_ratio:rate1h"], "percentunit"),
        ("stat", "Build time saved by dependency hits (1 h)", ["reprise:dependency_time_saved:increase1h"], "s"),
        ("stat", "Storage growth (per hour, 6 h trend)", [f"sum(reprise:stored_bytes:deriv6h{{{ARTIFACT_STORE}}}) * 3600"], "bytes"),
        ("timeseries", "Dependency lookups by result", ["sum by (result) (rate(reprise_artifact_dependency_lookups_total[5m]))"], "reqps"),
        ("timeseries", "Dependency hit rate by repository", ["max by (repository) (reprise_artifact_dependency_hit_ratio) or on() vector(0)"],
         "percentunit"),
        ("timeseries", "Entry age by protocol: average and p90", ["max by (protocol, stat) (reprise_artifact_entry_age_seconds) or on() vector(0)"],
         "s"),
        ("table", "Most used entries", ["topk(10, max by (tenant, protocol, key) (reprise_artifact_entry_accesses)) or on() vector(0)"], "short"),
    ]),
    "reprise-images": ("Reprise: image cache", [
        ("stat", "Images stored", ["sum(reprise_image_stored_images)"], "short"),
        ("stat", "Image bytes stored", ["sum(reprise_image_stored_bytes)"], "bytes"),
        ("stat", "Image hit rate (1 h)", ['sum(increase(reprise_image_resolves_total{result="hit"}[1h]))'
                                         " / clamp_min(sum(increase(reprise_image_resolves_total[1h])), 1e-9)"], "percentunit"),
        ("timeseries", "Resolves by result", ["sum by (result) (rate(reprise_image_resolves_total[5m]))"], "reqps"),
        ("timeseries", "Image builds by result (1 h)", ["sum by (result) (increase(reprise_image_builds_total[1h]))"], "short"),
        ("timeseries", "Image build time (average, 1 h)", ["sum(rate(reprise_image_build_duration_seconds_sum[1h]))"
                                                          " / clamp_min(sum(rate(reprise_image_build_duration_seconds_count[1h])), 1e-9)"], "s"),
        ("timeseries", "Longest image build", ["max by (result) (reprise_image_build_duration_seconds_max)"], "s"),
        ("timeseries", "Build steps by task-cache result (1 h)", ["sum by (result) (increase(reprise_runner_step_cache_total[1h]))"], "short"),
    ]),
    "reprise-redis-cache": ("Reprise: Redis cache layer", [
        ("timeseries", "Lookups by cache and result", ["sum by (service, cache, result) (rate(reprise_redis_cache_requests_total[5m]))"], "reqps"),
        ("timeseries", "Hit ratio by cache", ['sum by (cache) (rate(reprise_redis_cache_requests_total{result="hit"}[5m]))'
                                             " / clamp_min(sum by (cache) (rate(reprise_redis_cache_requests_total[5m])), 1e-9)"], "percentunit"),
        ("timeseries", "Load time on a miss (average)", ["sum by (cache) (rate(reprise_redis_cache_load_seconds_sum[5m]))"
                                                        " / clamp_min(sum by (cache) (rate(reprise_redis_cache_load_seconds_count[5m])), 1e-9)"], "s"),
        ("timeseries", "Redis errors", ["reprise:redis_cache_errors:rate5m"], "reqps"),
    ]),
    "reprise-services": ("Reprise: service health", [
        ("stat", "Services up", ["reprise:service_up"], "short"),
        ("timeseries", "HTTP requests by service", ["sum by (service) (rate(http_server_requests_seconds_count[5m]))"], "reqps"),
        ("timeseries", "HTTP latency p50 / p99", ["histogram_quantile(0.5, sum by (service, le) (rate(http_server_requests_seconds_bucket[5m])))",
                                                 "histogram_quantile(0.99, sum by (service, le) (rate(http_server_requests_seconds_bucket[5m])))"], "s"),
        ("timeseries", "HTTP latency (max)", ["max by (service) (http_server_requests_seconds_max)"], "s"),
        ("timeseries", "Kafka consumer lag", ["reprise:kafka_consumer_lag:max"], "short"),
        ("timeseries", "Heap used", ['sum by (service) (jvm_memory_used_bytes{area="heap"})'], "bytes"),
        ("timeseries", "CPU", ["max by (service) (process_cpu_usage)"], "percentunit"),
    ]),
}


def panel(i, kind, title, exprs, unit):
    return {
        "id": i + 1, "type": kind, "title": title,
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "gridPos": {"h": 4 if kind == "stat" else 8, "w": 8 if kind == "stat" else 12,
                    "x": (i % 3) * 8 if kind == "stat" else (i % 2) * 12, "y": (i // 2) * 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(65 + n), "expr": e, "datasource": {"type": "prometheus", "uid": "prometheus"}}
                    for n, e in enumerate(exprs)],
    }


def main():
    OUT.mkdir(exist_ok=True)
    for uid, (title, panels) in DASHBOARDS.items():
        dashboard = {
            "uid": uid, "title": title, "tags": ["reprise"], "schemaVersion": 39, "version": 1,
            "time": {"from": "now-6h", "to": "now"}, "refresh": "30s", "timezone": "browser",
            "panels": [panel(i, *p) for i, p in enumerate(panels)],
        }
        (OUT / f"{uid}.json").write_text(json.dumps(dashboard, indent=2) + "\n")


if __name__ == "__main__":
    main()
