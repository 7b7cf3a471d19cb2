#!/usr/bin/env python3
"""Summarises bench/results/*.json: one table of every scenario beside its target and its peer.

Writes bench/results/summary.json (machine-readable) and replaces the block between the summary
markers at the top of BENCHMARKS.md. Run by `bench/run all` after the scenarios; run it by hand
after re-running one scenario (`python3 bench/report.py`).
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")
START, END = "<!-- summary:start -->", "<!-- summary:end -->"


def load(name):
    path = os.path.join(RESULTS, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def ms(v):
    return "—" if v is None else (f"{v:,.0f} ms" if v >= 100 else f"{v:.1f} ms")


def verdict(ok):
    return "met" if ok else "**missed**"


def rows():
    out = []  # (scenario, target, measured, comparison, met or None, date)

    def add(scenario, target, measured, comparison, met, date):
        out.append({"scenario": scenario, "target": target, "measured": measured, "comparison": comparison,
                    "met": met, "date": date})

    r = load("replay")
    if r:
        d = r["date"]
        hit = r.get("hit_request_to_first_byte_ms")
        if isinstance(hit, dict) and "hit_post_ms" in r:
            add("cache hit: request → first replayed byte (request names the commit)", "p99 < 50 ms",
                f"p50 {ms(hit['p50'])}, p99 {ms(hit['p99'])} (n={hit['n']}); of which POST p50 {ms(r['hit_post_ms']['p50'])}, "
                f"socket open → first byte p50 {ms(r['hit_socket_open_to_first_byte_ms']['p50'])}",
                f"by branch name (git ls-remote first): p50 {ms(r['hit_by_branch_request_to_first_byte_ms']['p50'])}, "
                f"p99 {ms(r['hit_by_branch_request_to_first_byte_ms']['p99'])}", hit["p99"] < 50, d)
            add(f"instant replay of a {r['big_message_bytes'] / 1000:.0f} KB recording", "< 100 ms",
                f"p50 {ms(r['instant_replay_ms']['p50'])}, p99 {ms(r['instant_replay_ms']['p99'])}",
                f"live build of the same project, request → last byte: {ms(r['live_request_to_last_byte_ms'])}; "
                f"hit, request → last byte p50 {ms(r['hit_request_to_last_byte_ms']['p50'])}: "
                f"**{r['speedup_p50']:.0f}x faster**", r["instant_replay_ms"]["p99"] < 100, d)
        add("paced replay vs the live build", "within 10 %",
            f"speed 1: {r['speed1_ratio']:.3f} of the live span; speed 2: {r['speed2_ratio_to_half']:.3f} of half",
            f"live span {ms(r['live_span_ms'])}",
            abs(r["speed1_ratio"] - 1) <= 0.1 and abs(r["speed2_ratio_to_half"] - 1) <= 0.1, d)

    s = load("sockets")
    if s:
        p, i = s["paced"], s["instant"]
        add(f"{s['sockets']:,} concurrent replay sockets on one replay-service", "all held and served",
            f"paced: {p['completed']:,}/{s['sockets']:,} complete, {p['messages_per_s']:,.0f} msg/s, message delay "
            f"p50 {ms(p['message_delay_ms']['p50'])} / p99 {ms(p['message_delay_ms']['p99'])} "
            f"(once all open: p99 {ms(p['message_delay_once_all_open_ms']['p99'])}); handshake p99 {ms(p['handshake_ms']['p99'])}",
            f"memory per socket: {p['rss_per_socket_kb']:.0f} KB resident ({p['replay_rss_idle_mb']:.0f} → {p['replay_rss_peak_mb']:.0f} MB); "
            f"instant: {i['completed']:,}/{s['sockets']:,}, {i['messages_per_s']:,.0f} msg/s, {i['mb_per_s']:.1f} MB/s",
            p["completed"] == s["sockets"] and i["completed"] == s["sockets"], s["date"])

    live = load("live")
    if live:
        dl = live["line_delay_ms"]
        add("live path: printed line → runner → Kafka → WebSocket client", "p99 < 100 ms",
            f"p50 {ms(dl['p50'])}, p99 {ms(dl['p99'])}, max {ms(dl['max'])} (n={dl['n']:,})",
            f"{live['builds_at_once']} builds at once, {live['clients_per_build']} clients each",
            dl["p99"] < 100, live["date"])

    c = load("cache")
    if c:
        rd, pg = c["through_redis_us"], c["straight_from_postgres_us"]
        add("cache index lookup, warm: through Redis vs straight from PostgreSQL", "p99 < 5 ms",
            f"Redis: p50 {rd['p50'] / 1000:.2f} ms, p99 {rd['p99'] / 1000:.2f} ms",
            f"PostgreSQL: p50 {pg['p50'] / 1000:.2f} ms, p99 {pg['p99'] / 1000:.2f} ms; 64 in flight: "
            f"{c['concurrent_64_lookups_per_s']['through_redis']:,}/s vs {c['concurrent_64_lookups_per_s']['straight_from_postgres']:,}/s",
            rd["p99"] < 5000, c["date"])

    a = load("artifacts")
    if a:
        # Issue 22's goals: side by side with turborepo-remote-cache (the peer) and nginx.
        for size, v in a["sizes"].items():
            if "get_reprise" not in v:
                continue
            peer = "get_peer" in v
            small = size == "4KB"
            for op, metric, unit in (("get", "mb_per_s", "MB/s"), ("put", "mb_per_s", "MB/s")):
                r, n = v[f"{op}_reprise"], v[f"{op}_nginx"]
                to_nginx = r[metric] / n[metric]
                to_peer = r[metric] / v[f"{op}_peer"][metric] if peer else None
                if op == "get":
                    want_peer, want_nginx = (3.0, 0.5) if small else (1.0, 0.5)
                else:
                    want_peer, want_nginx = (1.5, 0.3) if size != "100MB" else (1.0, 0.3)
                target = (f">= {want_peer}x the peer, " if peer else "") + f">= {want_nginx}x nginx"
                side = (f"turborepo-remote-cache {v[op + '_peer'][metric]:,.1f} {unit} ({to_peer:.2f}x); " if peer else "") \
                    + f"nginx {n[metric]:,.1f} {unit} ({to_nginx:.2f}x)"
                met = to_nginx >= want_nginx and (to_peer is None or to_peer >= want_peer)
                label = "CAS GET" if op == "get" else "CAS PUT"
                stored = f"; all in S3 and the index {ms(r['stored_all_after_ms'])} after the last answer" \
                    if r.get("stored_all_after_ms") is not None else ""
                add(f"{label} {size}" + (" (new content)" if op == "put" else ""), target,
                    f"{r['requests_per_s']:,.0f} req/s, {r[metric]:,.1f} {unit}, p99 {ms(r['p99_ms'])}{stored}", side, met, a["date"])
            h, hn = v["head_reprise"], v["head_nginx"]
            add(f"CAS HEAD {size}", "p99 < 5 ms warm", f"p50 {ms(h['p50_ms'])}, p99 {ms(h['p99_ms'])}",
                (f"peer p99 {ms(v['head_peer']['p99_ms'])}, " if peer else "") + f"nginx p50 {ms(hn['p50_ms'])}, p99 {ms(hn['p99_ms'])} (same client)",
                h["p99_ms"] < 5, a["date"])
        w = a["sizes"].get("write_behind_visible")
        if w and w.get("saves"):
            add("acknowledged save -> in the index (seen by other instances)", "bounded, measured",
                f"p50 {ms(w['p50_ms'])}, p99 {ms(w['p99_ms'])}, max {ms(w['max_ms'])}",
                f"{w['saves']:,.0f} saves, during the PUT runs above", None, a["date"])

    t = load("taskcache")
    if t:
        add(f"task cache: warm lookup on {t['inputs']:,} inputs", "p99 < 50 ms (issue 7)",
            f"p50 {ms(t['lookup_warm_p50_ms'])}, p99 {ms(t['lookup_warm_p99_ms'])}", f"cold (every file hashed): {ms(t['lookup_cold_ms'])}",
            t["lookup_warm_p99_ms"] < 50, t["date"])
        add(f"task cache: restore vs run ({t['javac_classes']}-class javac)", "< 50 % of the run (issue 7)",
            f"restore {ms(t['restore_median_ms'])}", f"run {ms(t['javac_run_ms'])}: {t['restore_over_run'] * 100:.1f} %",
            t["restore_over_run"] < 0.5, t["date"])

    im = load("images")
    if im:
        add("image cache: cached resolve", "—", f"p50 {ms(im['cachedResolve']['p50Ms'])}, p99 {ms(im['cachedResolve']['p99Ms'])}",
            f"cold build of {im['coldBuild']['set']}: {ms(im['coldBuild']['ms'])}; container start p50 "
            f"{ms(im['containerStart']['p50Ms'])}", None, im["date"])

    j = load("jmh")
    jmh_path = os.path.join(RESULTS, "jmh.json")
    jmh_date = None
    if j:
        import datetime
        jmh_date = datetime.datetime.fromtimestamp(os.path.getmtime(jmh_path), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        for b in j:
            pm = b["primaryMetric"]
            pc = pm["scorePercentiles"]
            add(f"JMH {b['benchmark'].split('.')[-1]}", "—", f"p50 {pc['50.0']:,.1f} µs, p99 {pc['99.0']:,.1f} µs",
                f"mean {pm['score']:,.1f} ± {pm['scoreError']:,.1f} µs/op (JMH {b['jmhVersion']}, {b['jdkVersion']})", None, jmh_date)
    return out


def main():
    machine = load("machine") or {}
    table = rows()
    with open(os.path.join(RESULTS, "summary.json"), "w") as f:
        json.dump({"machine": machine, "scenarios": table}, f, indent=1)
        f.write("\n")
    lines = [START, "## Summary", ""]
    if machine:
        lines += [f"**Run:** {machine.get('date', '?')} at commit `{machine.get('commit', '?')}` by `bench/run all`. "
                  f"**Machine:** {machine.get('cpus', '?')} CPUs, {machine.get('memory', '?')}, {machine.get('os', '?')}, "
                  f"kernel {machine.get('kernel', '?')}; {machine.get('java', '?')}; {machine.get('versions', '')}. "
                  "Every service, store and load generator shares the same cores.", ""]
    lines += ["| scenario | target | measured | side by side | target met | run at (UTC) |", "|---|---|---|---|---|---|"]
    for r in table:
        met = "—" if r["met"] is None else verdict(r["met"])
        at = (r["date"] or "")[11:16] or "—"
        lines.append(f"| {r['scenario']} | {r['target']} | {r['measured']} | {r['comparison']} | {met} | {at} |")
    lines += ["", "Machine-readable: `bench/results/summary.json` (this table) and one file per scenario beside it.", END]
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as f:
        text = f.read()
    block = "\n".join(lines)
    if START in text and END in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        head, sep, rest = text.partition("\n## ")
        text = head.rstrip("\n") + "\n\n" + block + "\n\n" + sep.lstrip("\n") + rest
    with open(path, "w") as f:
        f.write(text)
    print(block)


if __name__ == "__main__":
    sys.exit(main())
